/* fd.h: file-descriptor helpers shared by every layer (lib/io/fd.c).
 *
 * The lowest layer: it includes nothing of the library but common.h, and
 * everything above it may include it.
 */
#pragma once

#include "common.h"

/* Sets or clears O_NONBLOCK. */
gboolean ss__set_nonblocking (int fd, gboolean nonblocking);

/* The SO_RCVTIMEO or SO_SNDTIMEO (@option) of @fd in seconds, 0 when none
 * is set: what rfile/wfile name in their timeout errors. */
double ss__socket_timeout (int fd, int option);

/* Monotonic seconds as a double. */
double ss__now (void);

/* Whether a task sleeps in the kernel (state S or D: blocked on I/O, a
 * lock, a sleep), from /proc: thread @tid of this process when @tid > 0,
 * else process @pid (its main thread). Where /proc cannot tell, it is
 * taken as asleep. The thread and process pools' sentinels ask it of the
 * workers holding an accept place. */
gboolean ss__task_asleep (pid_t pid, pid_t tid);

/* A level-triggered flag another thread can poll: readable from the first
 * ss__wake_fd_set until ss__wake_fd_clear. An eventfd (both ends the same
 * fd) where the system has one, else a pipe. Non-blocking, close-on-exec. */
typedef struct {
  int read_fd;
  int write_fd;
} SsWakeFd;

#define SS_WAKE_FD_INIT { -1, -1 }

/* Fails with @error naming @what when no fd is left. */
gboolean ss__wake_fd_open (SsWakeFd *wake, const char *what, GError **error);
void ss__wake_fd_set (const SsWakeFd *wake);
void ss__wake_fd_clear (const SsWakeFd *wake);
/* Closes both ends (once) and resets to SS_WAKE_FD_INIT. */
void ss__wake_fd_close (SsWakeFd *wake);

/* One recv(2) on @fd, EINTR retried: the count, 0 at EOF, or -1 with
 * @error as rfile reports it (SS_ERROR_TIMED_OUT after SO_RCVTIMEO). */
gssize ss__socket_recv (int fd, void *dest, gsize n, GError **error);
/* Sets @error for a failed read of @errsv on @fd, as ss__socket_recv does
 * (also what a layer reports when its socket read fails). */
void ss__set_recv_error (GError **error, int errsv, int fd);
/* Sets @error for a failed send of @errsv on @fd after @sent of @len bytes,
 * as wfile reports it (SS_ERROR_TIMED_OUT after SO_SNDTIMEO). */
void ss__set_send_error (GError **error, int errsv, int fd, gsize sent, gsize len);
