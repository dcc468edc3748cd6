/* http-programs.h: running ss-http-server, python3 -m http.server and the
 * real clients (curl, chromium) from the http tests.
 *
 * Every child gets PR_SET_PDEATHSIG, so a test that fails or times out
 * still takes its programs down; every wait is bounded (scaled up under
 * valgrind, SS_VALGRIND).
 */
#pragma once

#include "http-client.h"

typedef struct {
  GPid pid;
  gboolean reaped;
  int status;       /* waitpid status once reaped */
  int out_fd, err_fd;
  GString *out;     /* what stdout said so far (after the banner) */
  GString *err;     /* what stderr said so far */
  char *banner;     /* the first stdout line, without '\n' */
  char *host;       /* "Serving HTTP on HOST port PORT ..." */
  guint16 port;
} Proc;

/* $SS_BUILDDIR/servers/ss-http-server (transfer full). */
char *proc_ss_http_server (void);

/* Starts @argv (argv[0] a path, or a name looked up in PATH) in @cwd
 * (NULL: this one) with stdout and stderr piped. */
Proc *proc_spawn (const char *const *argv, const char *cwd);

/* Reads the first stdout line and parses the http.server banner; fails
 * the test with the child's stderr if it exits or stays silent. */
void proc_read_banner (Proc *p);

/* ss-http-server with @args, its banner read. */
Proc *proc_start_server (const char *const *args, const char *cwd);

/* Waits up to @timeout_s for the child to exit, collecting its output;
 * returns whether it did. */
gboolean proc_wait (Proc *p, double timeout_s);

/* Reads what the child has written to stderr so far (waiting up to
 * @timeout_s for more). */
void proc_drain_err (Proc *p, double timeout_s);

/* Sends @sig and asserts exit status 0 within 10 s. */
void proc_stop (Proc *p, int sig);

/* Kills (if still running) and frees. */
void proc_free (Proc *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Proc, proc_free)

/* Runs @argv to completion within @timeout_s; returns its exit status, or
 * -1 when it had to be killed. @out/@err may be NULL. */
int proc_run (const char *const *argv, double timeout_s, GString *out, GString *err);

/* The time scale: 10 under valgrind, else 1. */
double proc_scale (void);
