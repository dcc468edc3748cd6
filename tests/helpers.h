/* helpers.h: what every test file shares (libuv's test/echo-server.c idea).
 *
 * A server running serve_forever in a background thread, clients that talk
 * to it over loopback or a Unix socket in a temporary folder, and counters
 * of the process's fds and threads. Every client socket gets a 10 s receive
 * and send timeout so a broken server fails a test instead of hanging it.
 */
#pragma once

#include <check.h>
#include <glib.h>
#include <socketserver/socketserver.h>

typedef struct {
  SsServer *server;
  GThread *thread;
  gboolean ok;       /* what serve_forever returned */
} TestServer;

/* Runs serve_forever(0.05) on @server in a new thread. Takes ownership. */
TestServer *test_server_start (SsServer *server);
/* shutdown, join the thread, free the server; asserts serve_forever succeeded. */
void test_server_stop (TestServer *ts);

/* "127.0.0.1:0" for INET transports; a fresh path in a temporary folder for
 * Unix ones ("tcp", "udp", "unix", "unix-dgram"). Transfer full. The folder
 * is removed by test_tmp_cleanup() (registered with atexit on first use). */
char *test_address_for (const char *transport);
char *test_tmp_path (const char *name);

/* A client socket connected to @server (stream: connect; datagram: a
 * socket connected with connect(), Unix datagram ones bound to a temp path
 * so replies can come back). 10 s timeouts. Fails the test on error. */
int test_connect (SsServer *server);

/* send everything / receive to EOF (or until @max bytes) / one line. */
void test_send_all (int fd, const void *data, gsize len);
GString *test_recv_all (int fd, gsize max);
/* Reads up to and including '\n'; returns the line (transfer full) or NULL at EOF. */
char *test_recv_line (int fd);

/* One echo exchange: sends @msg (a line ending in '\n' for stream
 * servers, a datagram otherwise) and asserts the same bytes come back. */
void test_echo_once (SsServer *server, const char *msg);

/* Open fds and threads of this process (from /proc/self). */
int test_count_fds (void);
int test_count_threads (void);

/* Strategy by name with small defaults for tests ("sync", "threading",
 * "threadpooling" (2, 50, 2), "forking"). */
SsStrategy *test_strategy (const char *name);

/* Waits up to @timeout_s for @cond (polled every 10 ms); returns it. */
gboolean test_wait_until (gboolean (*cond) (gpointer), gpointer data, double timeout_s);

/* Waits up to 10 s until @server's stats say @want connections are
 * parked (ss_server_park_request); fails the case otherwise. */
void test_wait_parked (SsServer *server, guint want);

/* Runs a check suite, prints its results as TAP (automake's TAP driver
 * reports each case: PASS, FAIL, or SKIP for TEST_SKIP) after check's
 * summary line, and returns the exit status for main(). */
int test_run_suite (Suite *suite);

/* In a START_TEST body: end this case as skipped, with the reason the
 * harness shows ("SKIP: ... # SKIP reason"). Does not return. */
void test_skip_case (const char *format, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;
#define TEST_SKIP(...) test_skip_case (__VA_ARGS__)

/* For main() when the whole program cannot run here: prints TAP's
 * "1..0 # SKIP @reason" (the harness reports the program as SKIP) and
 * returns the exit status to use. */
int test_skip_program (const char *reason);

extern const char *const test_transports[4]; /* "tcp", "udp", "unix", "unix-dgram" */
extern const char *const test_strategies[4]; /* "sync", "threading", "threadpooling", "forking" */

/* Asserts that @e is an SS_ERROR with code @c, printing the message otherwise. */
#define ck_assert_error(e, c)                                                   \
  ck_assert_msg ((e) != NULL && (e)->domain == SS_ERROR && (e)->code == (int) (c), \
                 "expected SS_ERROR code %d, got %s", (int) (c),                \
                 (e) != NULL ? (e)->message : "no error")

/* TRUE in ASan and TSan builds. GCC 12's sanitizer allocators are not
 * locked across fork(): a request child forked while another thread of the
 * test process was inside malloc deadlocks on the allocator's lock (seen in
 * gdb: the child stuck in SizeClassAllocator64::GetFromAllocator under
 * ss_rfile_new_socket). Tests whose forking server shares its process with
 * allocating client threads skip the forking case there; the plain and
 * valgrind builds run it. */
gboolean test_fork_unsafe_sanitizer (void);

/* Makes permission checks apply to this process and whatever it execs.
 * Root bypasses them through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so
 * as root the two are dropped from the bounding set (an exec as uid 0 would
 * regain them otherwise) and from the process's own sets. The uid stays 0,
 * so the build folder stays reachable even when only root may enter it (a
 * CI build root made by mktemp -d is 0700). Where capabilities cannot be
 * dropped, falls back to becoming nobody. Call it in a forked child (it
 * cannot be undone). Returns 0, or 10 when neither works (a child exit
 * code). */
int test_drop_permission_bypass (void);

/* In a START_TEST body: skip (SKIP in the harness) when @strategy is
 * "forking" and the build is fork-unsafe as above. */
#define TEST_SKIP_FORKING_UNDER_SANITIZER(strategy)                                  \
  do {                                                                               \
    if (g_str_equal ((strategy), "forking") && test_fork_unsafe_sanitizer ())        \
      TEST_SKIP ("forking case in a sanitizer build (fork beside allocating threads, "\
                 "see helpers.h)");                                                  \
  } while (0)
