/* ops-helpers.h: what the tests of the operations layer share
 * (test-activation.c, test-units.c): ss-echo processes started as a
 * service manager starts them, the notify socket that stands in for the
 * manager's, and a client load that counts every failed exchange.
 * Every wait is bounded, stretched by ops_scale() under valgrind.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Waits stretch under valgrind (SS_VALGRIND), where the ss-echo the tests
 * spawn runs under valgrind too and takes seconds to start: 10, else 1. */
double ops_scale (void);

/* A listening TCP socket on 127.0.0.1, port 0; its port in *@port. */
int ops_listening_tcp (guint16 *port);

/* In a forked child: @fd becomes fd 3 (SS_LISTEN_FDS_START), and the
 * environment names this process as systemd's would: LISTEN_PID, LISTEN_FDS
 * (@listen_fds), LISTEN_FDNAMES. */
void ops_become_activated (int fd, const char *listen_fds);

/* A checked fixture's setup: SIGTERM's default action, and none of the
 * socket-activation or notify variables a case may have set. */
void ops_setup (void);

/* The build's servers/ss-echo (SS_BUILDDIR). Transfer full. */
char *ops_ss_echo_path (void);

/* Forks and execs @argv (argv[0] a path) in a session of its own, as a
 * service manager starts a service, with stdout, and stderr when @err_fd
 * is not NULL, to pipes (their read ends in *@out_fd, *@err_fd); the child
 * dies with the test process. @listen_fd >= 0 is handed over as systemd
 * does (fd 3, ops_become_activated, NOTIFY_SOCKET=@notify when not NULL);
 * the caller keeps its own fd. */
pid_t ops_spawn (const char *const *argv, int listen_fd, const char *notify, int *out_fd, int *err_fd);

/* A datagram socket standing in for systemd's, with a 10 s receive
 * timeout; *@name (transfer full) is its NOTIFY_SOCKET value: a path in
 * the test's folder, or an abstract "@..." name. */
int ops_notify_socket (gboolean abstract, char **name);
/* The next notice on @fd (transfer full); fails the case after 10 s. */
char *ops_recv_notice (int fd);
/* The same, and the pid of the process that sent it (SCM_CREDENTIALS, as
 * systemd reads it to hold a service to NotifyAccess=main). */
char *ops_recv_notice_from (int fd, pid_t *sender);

/* A line from a pipe (without its '\n'); fails the case after 10 s. */
char *ops_read_line_fd (int fd);
/* The port of ss-echo's banner "Serving on 127.0.0.1 port N ...". */
guint16 ops_banner_port (const char *banner);
/* Everything on @fd so far into @into, waiting up to @timeout_s for @needle. */
void ops_read_until (int fd, GString *into, const char *needle, double timeout_s);

typedef struct {
  guint16 port;
  gint stop;          /* (atomic) */
  gint ok;            /* (atomic) exchanges that got their echo */
  gint ok_late;       /* (atomic) of those, after the old process exited */
  gint late;          /* (atomic) set once the old process is gone */
  gint failed;        /* (atomic) */
  char first_failure[160];
} OpsLoad;

/* A thread's loop over connect, one line, its echo, close to 127.0.0.1,
 * @data's port, until ->stop; counts into @data (an OpsLoad). */
gpointer ops_load_thread (gpointer data);
