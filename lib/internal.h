/* internal.h: what the library's files share and users do not see.
 *
 * Functions named ss__* are internal. SsServerPrivate is the core's state:
 * the shutdown machinery (an eventfd/self-pipe that wakes the loop), the
 * counters behind ss_server_get_stats, and the EMFILE back-off.
 */
#pragma once

#include "config.h"

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "socketserver"

#include <pthread.h>
#include <sys/types.h>
#include <socketserver/socketserver.h>

/* Dispatch through the class chain: SS_SLOT (server->klass, verify_request). */
#define SS_SLOT(klass, slot) \
  ((__typeof__ (((SsServerClass *) 0)->slot)) ss_server_class_lookup ((klass), G_STRUCT_OFFSET (SsServerClass, slot)))

struct SsServerPrivate {
  pthread_mutex_t lock;            /* guards the fields below marked (lock) */
  pthread_cond_t is_shut_down_cond;
  gboolean serving;                /* (lock) serve_forever is running */
  gboolean shutdown_request;       /* (lock) shutdown() was asked for */
  pthread_t serving_thread;        /* (lock) valid while serving */
  int wake_fd[2];                  /* eventfd (both equal) or pipe: wakes the loop */
  gboolean closed;                 /* server_close has run */
  gboolean unix_path_created;      /* unix.c: we created the socket file */
  dev_t unix_dev;                  /* unix.c: identity of the socket file we created, */
  ino_t unix_ino;                  /*   so server_close never unlinks a stranger's file */
  pid_t unix_owner_pid;            /* unix.c: a forked child must not unlink it */

  /* Counters: atomics, read by ss_server_get_stats. */
  guint64 served;
  guint64 errors;
  guint64 rejected;

  /* EMFILE back-off (serve.c): monotonic µs of the last log line and of the
   * time accepting may resume. Touched only by accepting threads, under lock. */
  gint64 emfile_logged_at;         /* (atomic) */
  gint64 accept_paused_until;      /* (atomic) */
  guint64 emfile_suppressed;       /* (atomic) EMFILE events not logged since the last line */
};

void ss__server_count_served (SsServer *server);
void ss__server_count_rejected (SsServer *server);

/* Seconds left of an accept pause after EMFILE/ENFILE (0 when accepting).
 * Accepting threads must not poll the server socket before it ends: the
 * socket stays readable and they would spin. */
double ss__server_accept_paused_for (SsServer *server);

/* Wakes serve_forever and any thread polling ss__server_wake_fd. */
void ss__server_wake (SsServer *server);
int ss__server_wake_fd (SsServer *server);
gboolean ss__server_shutdown_requested (SsServer *server);

/* Sets FD_CLOEXEC | O_NONBLOCK as asked. */
gboolean ss__set_nonblocking (int fd, gboolean nonblocking);

/* The SO_RCVTIMEO or SO_SNDTIMEO (@option) of @fd in seconds, 0 when none
 * is set: what rfile/wfile name in their timeout errors. */
double ss__socket_timeout (int fd, int option);

/* Monotonic seconds as a double. */
double ss__now (void);

/* Waits for @fd (and the server's wake fd) to become readable up to
 * @timeout seconds (< 0: forever). Returns 1 readable, 0 timeout, -1 woken
 * by shutdown; EINTR is retried with the remaining time. */
int ss__wait_readable (SsServer *server, int fd, double timeout);

/* Drains the wake fd so a later serve_forever can sleep again. */
void ss__server_wake_reset (SsServer *server);
