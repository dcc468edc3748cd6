/* test-lifetime.c: what a server's socket outlives, and server_close races.
 *
 * A datagram request replies on the server's own socket. When the server
 * is closed while a handler still runs (daemon threads, block_on_close
 * FALSE), its fd number must not be reused under that handler: the reply
 * would go to whatever the program opened next (issue 13 item 2 saw a TCP
 * peer receive a UDP client's reply). And two threads calling server_close
 * at once must close the socket and run the strategy's close once.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ a handler held in place */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  gboolean entered;   /* the handler is running */
  gboolean release;   /* the test lets it reply */
  gboolean done;      /* its finish (the reply) has run */
} held = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, FALSE, FALSE, FALSE };

static gboolean
held_handle (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;

  pthread_mutex_lock (&held.lock);
  held.entered = TRUE;
  pthread_cond_broadcast (&held.cond);
  while (!held.release)
    pthread_cond_wait (&held.cond, &held.lock);
  pthread_mutex_unlock (&held.lock);
  return ss_wfile_write (self->wfile, "reply", 5, error);
}

static gboolean
held_finish (SsRequestHandler *handler, GError **error)
{
  gboolean ok = ss_datagram_request_handler_class.finish (handler, error); /* the sendto */

  pthread_mutex_lock (&held.lock);
  held.done = TRUE;
  pthread_cond_broadcast (&held.cond);
  pthread_mutex_unlock (&held.lock);
  return ok;
}

SS_DEFINE_HANDLER_CLASS (SsDatagramRequestHandler, held_class, ss_datagram_request_handler_class,
                         .handle = held_handle, .finish = held_finish);

static void
held_reset (void)
{
  held.entered = held.release = held.done = FALSE;
}

static void
held_wait (gboolean *flag)
{
  pthread_mutex_lock (&held.lock);
  while (!*flag)
    pthread_cond_wait (&held.cond, &held.lock);
  pthread_mutex_unlock (&held.lock);
}

static void
held_let_go (void)
{
  pthread_mutex_lock (&held.lock);
  held.release = TRUE;
  pthread_cond_broadcast (&held.cond);
  pthread_mutex_unlock (&held.lock);
}

/* A listening TCP socket and a connection accepted on it: the fds a
 * program might open right after closing its UDP server. */
static void
open_tcp_pair (int *listener, int *client, int *accepted)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;

  *listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge (*listener, 0);
  ck_assert_int_eq (bind (*listener, (struct sockaddr *) &addr, sizeof addr), 0);
  ck_assert_int_eq (listen (*listener, 4), 0);
  ck_assert_int_eq (getsockname (*listener, (struct sockaddr *) &addr, &len), 0);
  *client = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_eq (connect (*client, (struct sockaddr *) &addr, sizeof addr), 0);
  *accepted = accept4 (*listener, NULL, NULL, SOCK_CLOEXEC);
  ck_assert_int_ge (*accepted, 0);
}

/* Bytes waiting on @fd within @ms, without blocking longer. */
static gssize
bytes_within (int fd, char *buf, gsize len, int ms)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };

  if (poll (&pfd, 1, ms) != 1)
    return 0;
  return recv (fd, buf, len, MSG_DONTWAIT);
}

/* The reply of a handler still running when its UDP server was closed
 * goes to the UDP client, on the server's socket, and never to the fds
 * the program opened after the close (which must not get its number). */
static void
check_reply_after_close (SsStrategy *strategy, const char *transport)
{
  g_autofree char *address = test_address_for (transport);
  const SsServerClass *klass = g_str_equal (transport, "udp") ? &ss_udp_server_class
                                                             : &ss_unix_datagram_server_class;
  GError *error = NULL;
  SsServer *server = ss_server_new (klass, address, &held_class, strategy, TRUE, &error);
  TestServer *ts;
  int server_fd, client, listener, tcp_client, tcp_accepted;
  char buf[64];
  gssize n;

  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  held_reset ();
  server_fd = server->socket_fd;
  ts = test_server_start (server);
  client = test_connect (server);
  test_send_all (client, "ping", 4);
  held_wait (&held.entered);

  /* Stop serving and close while the handler still runs: daemon threads
   * (or block_on_close FALSE) do not wait for it. */
  ss_server_shutdown (server);
  g_thread_join (ts->thread);
  ss_server_server_close (server);
  ck_assert_int_eq (server->socket_fd, -1);

  /* The program opens new sockets; none may get the server's number while
   * its handler can still reply on it. */
  open_tcp_pair (&listener, &tcp_client, &tcp_accepted);
  ck_assert_int_ne (listener, server_fd);
  ck_assert_int_ne (tcp_client, server_fd);
  ck_assert_int_ne (tcp_accepted, server_fd);

  held_let_go ();
  held_wait (&held.done);
  n = bytes_within (client, buf, sizeof buf, 5000);
  ck_assert_int_eq (n, 5);
  ck_assert_int_eq (memcmp (buf, "reply", 5), 0);
  ck_assert_int_eq (bytes_within (tcp_client, buf, sizeof buf, 50), 0);
  ck_assert_int_eq (bytes_within (tcp_accepted, buf, sizeof buf, 50), 0);

  close (tcp_accepted);
  close (tcp_client);
  close (listener);
  close (client);
  ss_server_free (server);
  g_free (ts);
}

START_TEST (test_daemon_threads_reply_after_close)
{
  SsStrategy *strategy = ss_threading_strategy_new ();

  ss_threading_strategy_set_daemon_threads (strategy, TRUE);
  check_reply_after_close (strategy, _i == 1 ? "udp" : "unix-dgram");
}
END_TEST

START_TEST (test_no_block_on_close_reply_after_close)
{
  SsStrategy *strategy = ss_threading_strategy_new ();

  ss_threading_strategy_set_block_on_close (strategy, FALSE);
  check_reply_after_close (strategy, _i == 1 ? "udp" : "unix-dgram");
}
END_TEST

/* The socket is closed once the last request holding it is freed: no fd
 * is left behind. */
START_TEST (test_datagram_socket_closed_after_last_request)
{
  int before = test_count_fds ();
  SsStrategy *strategy = ss_threading_strategy_new ();

  ss_threading_strategy_set_daemon_threads (strategy, TRUE);
  check_reply_after_close (strategy, "udp");
  /* The handler thread frees its request right after finish. */
  for (int i = 0; i < 500 && test_count_fds () != before; i++)
    g_usleep (10000);
  ck_assert_int_eq (test_count_fds (), before);
}
END_TEST

/* ------------------------------------------------------------ concurrent server_close */

/* A strategy whose server_close counts its calls and takes a while, so a
 * second close that was not kept out would overlap it. */
typedef struct {
  SsStrategy parent;
  gint closes;
} CountingStrategy;

static void
counting_process_request (SsStrategy *strategy, SsServer *server, SsRequest *request)
{
  ss_server_run_request (server, request);
}

static void
counting_server_close (SsStrategy *strategy, SsServer *server)
{
  g_atomic_int_inc (&((CountingStrategy *) strategy)->closes);
  g_usleep (1000);
}

static void
counting_free (SsStrategy *strategy)
{
  g_free (strategy);
}

static const SsStrategyOps counting_ops = {
  .name = "counting",
  .attach = NULL,
  .process_request = counting_process_request,
  .service_actions = NULL,
  .handle_timeout = NULL,
  .server_close = counting_server_close,
  .start_serving = NULL,
  .stop_serving = NULL,
  .get_stats = NULL,
  .free = counting_free,
};

static pthread_barrier_t close_barrier;

static gpointer
close_thread (gpointer data)
{
  pthread_barrier_wait (&close_barrier);
  ss_server_server_close (data);
  return NULL;
}

START_TEST (test_concurrent_server_close_once)
{
  int rounds, doubled = 0;

  pthread_barrier_init (&close_barrier, NULL, 2);
  for (rounds = 0; rounds < 200; rounds++)
    {
      CountingStrategy *strategy = g_new0 (CountingStrategy, 1);
      GError *error = NULL;
      SsServer *server;
      GThread *a, *b;
      int before;

      strategy->parent.ops = &counting_ops;
      server = ss_server_new (&ss_tcp_server_class, "127.0.0.1:0", &ss_stream_echo_handler_class,
                              &strategy->parent, TRUE, &error);
      ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
      before = test_count_fds ();
      a = g_thread_new ("close-a", close_thread, server);
      b = g_thread_new ("close-b", close_thread, server);
      g_thread_join (a);
      g_thread_join (b);
      doubled += g_atomic_int_get (&strategy->closes) != 1;
      /* The listening socket was closed exactly once. */
      ck_assert_int_eq (test_count_fds (), before - 1);
      ss_server_free (server);
    }
  pthread_barrier_destroy (&close_barrier);
  ck_assert_msg (doubled == 0, "the strategy's server_close ran twice in %d of 200 rounds", doubled);
}
END_TEST

/* A program that creates the server, forks a child to serve it and frees
 * its own copy in the parent (Python's "fork, then the child serves").
 * The parent's free runs server_close and with it shutdown, which sets the
 * server's wake eventfd -- one object shared with the child. The child's
 * serve_forever must still accept: before the fix its poll saw the wake
 * readable on every pass, skipped accept and spun (ss-bench
 * --server=forking served 0 replies in 3 s this way). */
START_TEST (test_parent_free_after_fork_leaves_child_serving)
{
  GError *error = NULL;
  SsServer *server = ss_tcp_server_new ("127.0.0.1:0", &ss_stream_echo_handler_class, NULL, &error);
  SsAddress address;
  struct timeval tv = { .tv_sec = 5 };
  char line[16] = { 0 };
  int fd, status;
  ssize_t n;
  pid_t pid;

  ck_assert_msg (server != NULL, "%s", error ? error->message : "");
  address = server->server_address;
  pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      ss_server_serve_forever (server, 0.5, NULL);
      _exit (0);
    }
  ss_server_free (server);   /* the parent's copy: closes its fd, sets the shared wake */

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  ck_assert_int_eq (connect (fd, (const struct sockaddr *) &address.storage, address.len), 0);
  test_send_all (fd, "ping\n", 5);
  do
    n = recv (fd, line, sizeof line - 1, MSG_WAITALL);
  while (n < 0 && errno == EINTR);
  close (fd);
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  ck_assert_msg (n == 5 && strcmp (line, "ping\n") == 0,
                 "the child served nothing in 5 s (recv: %zd, %s)", n, n < 0 ? g_strerror (errno) : line);
}
END_TEST

static Suite *
lifetime_suite (void)
{
  Suite *s = suite_create ("lifetime");
  TCase *datagram = tcase_create ("datagram-socket");
  TCase *close = tcase_create ("server-close");

  /* _i 1: udp, 3: unix-dgram (the indices of test_transports). */
  tcase_add_loop_test (datagram, test_daemon_threads_reply_after_close, 1, 2);
  tcase_add_loop_test (datagram, test_daemon_threads_reply_after_close, 3, 4);
  tcase_add_loop_test (datagram, test_no_block_on_close_reply_after_close, 1, 2);
  tcase_add_loop_test (datagram, test_no_block_on_close_reply_after_close, 3, 4);
  tcase_add_test (datagram, test_datagram_socket_closed_after_last_request);
  suite_add_tcase (s, datagram);

  tcase_add_test (close, test_concurrent_server_close_once);
  tcase_add_test (close, test_parent_free_after_fork_leaves_child_serving);
  suite_add_tcase (s, close);
  return s;
}

int
main (void)
{
  return test_run_suite (lifetime_suite ());
}
