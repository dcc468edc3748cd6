/* test-request-io.c: a layer over a stream request's bytes (request.h's
 * SsRequestIO), without TLS.
 *
 * The layer here flips bit 5 of every byte in both directions (so the
 * bytes on the wire differ from what the handler sees) and counts its
 * calls. It proves what the TLS layer relies on, in a build with or
 * without TLS: rfile and wfile of StreamRequestHandler go through the
 * layer (read, readline with a limit, write, sendfile as a copy), its
 * pending bytes count in ss_rfile_buffered, start runs once in the thread
 * that runs the request and before the handler, a failing start closes
 * the connection without running the handler, shutdown runs before the
 * socket is closed and free once per request. The layer is put on by a
 * server class whose get_request wraps what TCPServer's returns: the
 * public idiom of Python's `context.wrap_socket(sock)` in get_request.
 */
#include "config.h"
#include "helpers.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  gint starts, recvs, sends, shutdowns, frees;
  gint start_fails;     /* make start fail */
  gint handled;         /* the handler ran */
  GThread *start_thread;
  GThread *handle_thread;
  gsize pending;        /* what pending() reports */
} Counts;

static Counts counts;

static void
flip (guint8 *p, gsize n)
{
  for (gsize i = 0; i < n; i++)
    p[i] ^= 0x20;
}

static gboolean
flip_start (SsRequest *request, GError **error)
{
  g_atomic_int_inc (&counts.starts);
  counts.start_thread = g_thread_self ();
  if (g_atomic_int_get (&counts.start_fails))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_FAILED, "the flip layer refused the connection");
      return FALSE;
    }
  return TRUE;
}

static gssize
flip_recv (SsRequest *request, void *buf, gsize n, GError **error)
{
  gssize got;

  g_atomic_int_inc (&counts.recvs);
  got = recv (request->fd, buf, MIN (n, 7), 0); /* small reads: several per line */
  if (got < 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_FAILED, "flip recv: %s", g_strerror (errno));
      return -1;
    }
  flip (buf, (gsize) got);
  return got;
}

static gboolean
flip_send (SsRequest *request, const void *a, gsize a_len, const void *b, gsize b_len,
           gboolean more, GError **error)
{
  g_autofree guint8 *copy = g_malloc (a_len + b_len + 1);

  g_atomic_int_inc (&counts.sends);
  if (a_len > 0)
    memcpy (copy, a, a_len);
  if (b_len > 0)
    memcpy (copy + a_len, b, b_len);
  flip (copy, a_len + b_len);
  return ss_sendall (request->fd, copy, a_len + b_len, error);
}

static gsize
flip_pending (SsRequest *request)
{
  return counts.pending;
}

static void
flip_shutdown (SsRequest *request)
{
  ck_assert_int_ge (request->fd, 0); /* before the socket is closed */
  g_atomic_int_inc (&counts.shutdowns);
}

static void
flip_free (SsRequest *request)
{
  ck_assert_ptr_eq (request->io_data, &counts);
  g_atomic_int_inc (&counts.frees);
}

static const SsRequestIO flip_io = {
  .name = "flip",
  .start = flip_start,
  .recv = flip_recv,
  .send = flip_send,
  .sendfile = NULL,
  .pending = flip_pending,
  .shutdown = flip_shutdown,
  .free = flip_free,
};

static void
reset_counts (void)
{
  memset (&counts, 0, sizeof counts);
}

/* ---------------------------------------------------------------- files over a layer */

START_TEST (test_files)
{
  int sv[2];
  SsRequest *request;
  SsRFile *rfile;
  SsWFile *wfile;
  g_autoptr (GString) line = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  char wire[] = "HELLO, LAYER\nSECOND LINE\n";
  char back[64];
  char path[] = "/tmp/ss-test-request-io-XXXXXX";
  int file_fd;

  reset_counts ();
  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  request = ss_request_new_stream (sv[0], NULL);
  request->io = &flip_io;
  request->io_data = &counts;
  rfile = ss_rfile_new_for_request (request, 0);
  wfile = ss_wfile_new_for_request (request, 0);

  /* What the peer sends is flipped on the wire; the reader sees it plain. */
  /* (Flipped, a space is a NUL: lengths from sizeof.) */
  flip ((guint8 *) wire, sizeof wire - 1);
  test_send_all (sv[1], wire, sizeof wire - 1);
  ck_assert_int_eq (ss_rfile_readline (rfile, line, 5, &error), 5);
  ck_assert_str_eq (line->str, "HELLO");
  g_string_truncate (line, 0);
  ck_assert_int_eq (ss_rfile_readline (rfile, line, -1, &error), 8);
  ck_assert_str_eq (line->str, ", LAYER\n");
  ck_assert_int_gt (g_atomic_int_get (&counts.recvs), 1);
  /* Bytes the reader holds plus what the layer says it holds. */
  counts.pending = 100;
  ck_assert_uint_eq (ss_rfile_buffered (rfile), 100 + 1); /* the "S" of 7-byte reads */
  counts.pending = 0;
  g_string_truncate (line, 0);
  ck_assert_int_eq (ss_rfile_readline (rfile, line, -1, &error), 12);
  ck_assert_str_eq (line->str, "SECOND LINE\n");
  ck_assert_uint_eq (ss_rfile_buffered (rfile), 0);

  /* Writes go out through the layer: flipped on the wire. */
  ck_assert (ss_wfile_write (wfile, "abc", 3, &error));
  ck_assert_int_eq (recv (sv[1], back, sizeof back, 0), 3);
  ck_assert_int_eq (memcmp (back, "ABC", 3), 0);
  ck_assert (ss_request_sendall (request, "xyz", 3, &error));
  ck_assert_int_eq (recv (sv[1], back, sizeof back, 0), 3);
  ck_assert_int_eq (memcmp (back, "XYZ", 3), 0);

  /* sendfile through a layer without one of its own: a copy through send. */
  file_fd = g_mkstemp (path);
  ck_assert_int_ge (file_fd, 0);
  ck_assert_int_eq (write (file_fd, "0123file", 8), 8);
  ck_assert (ss_wfile_sendfile (wfile, file_fd, 4, 4, &error));
  ck_assert_int_eq (recv (sv[1], back, sizeof back, 0), 4);
  ck_assert_int_eq (memcmp (back, "FILE", 4), 0);
  close (file_fd);
  unlink (path);

  /* ss_request_recv reads through the layer too. */
  test_send_all (sv[1], "PQ", 2);
  ck_assert_int_eq (ss_request_recv (request, back, sizeof back, &error), 2);
  ck_assert_int_eq (memcmp (back, "pq", 2), 0);
  ck_assert_int_eq (g_atomic_int_get (&counts.starts), 0); /* only the server starts it */

  ss_wfile_free (wfile);
  ss_rfile_free (rfile);
  ss_request_free (request);
  ck_assert_int_eq (counts.frees, 1);
  close (sv[0]);
  close (sv[1]);
}
END_TEST

/* Without a layer the same calls are the plain socket (nothing counted). */
START_TEST (test_plain)
{
  int sv[2];
  SsRequest *request;
  SsRFile *rfile;
  g_autoptr (GString) line = g_string_new (NULL);
  char back[8];

  reset_counts ();
  ck_assert_int_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  request = ss_request_new_stream (sv[0], NULL);
  rfile = ss_rfile_new_for_request (request, 0);
  test_send_all (sv[1], "plain\n", 6);
  ck_assert_int_eq (ss_rfile_readline (rfile, line, -1, NULL), 6);
  ck_assert_str_eq (line->str, "plain\n");
  ck_assert (ss_request_sendall (request, "ok", 2, NULL));
  ck_assert_int_eq (recv (sv[1], back, sizeof back, 0), 2);
  ck_assert_int_eq (counts.recvs + counts.sends, 0);
  ss_rfile_free (rfile);
  ss_request_free (request);
  close (sv[0]);
  close (sv[1]);
}
END_TEST

/* ---------------------------------------------------------------- a server over a layer */

static SsRequest *
flip_get_request (SsServer *self, GError **error)
{
  SsRequest *request = ss_tcp_server_class.get_request (self, error); /* super() */

  if (request != NULL)
    {
      request->io = &flip_io;
      request->io_data = &counts;
    }
  return request;
}

static const SsServerClass flip_server_class = {
  .name = "FlipServer",
  .parent = &ss_tcp_server_class,
  .get_request = flip_get_request,
};

static gboolean
flip_echo_handle (SsRequestHandler *handler, GError **error)
{
  g_atomic_int_inc (&counts.handled);
  counts.handle_thread = g_thread_self ();
  return ss_stream_echo_handler_class.handle (handler, error); /* super() */
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, flip_echo_handler_class,
                         ss_stream_echo_handler_class, .handle = flip_echo_handle);

static gboolean
frees_reach (gpointer data)
{
  return g_atomic_int_get (&counts.frees) >= GPOINTER_TO_INT (data);
}

START_TEST (test_server)
{
  const char *strategy = test_strategies[_i];
  TestServer *ts;
  int fd;
  char wire[] = "ECHO ME\n";
  GString *got;

  reset_counts ();
  ts = test_server_start (ss_server_new (&flip_server_class, "127.0.0.1:0", &flip_echo_handler_class,
                                         test_strategy (strategy), TRUE, NULL));
  fd = test_connect (ts->server);
  flip ((guint8 *) wire, sizeof wire - 1);
  test_send_all (fd, wire, sizeof wire - 1);
  /* On the wire the line ends in '*' ('\n' flipped): read its length. */
  got = test_recv_all (fd, sizeof wire - 1);
  ck_assert_uint_eq (got->len, sizeof wire - 1);
  ck_assert_int_eq (memcmp (got->str, wire, sizeof wire - 1), 0); /* flipped again by wfile */
  g_string_free (got, TRUE);
  close (fd);
  ck_assert (test_wait_until (frees_reach, GINT_TO_POINTER (1), 10));
  ck_assert_int_eq (counts.starts, 1);
  ck_assert_int_eq (counts.handled, 1);
  ck_assert_int_eq (counts.shutdowns, 1);
  /* start ran where the handler ran. */
  ck_assert_ptr_eq (counts.start_thread, counts.handle_thread);

  /* A start that fails: no handler, the connection closed, shutdown and free still run. */
  g_atomic_int_set (&counts.start_fails, 1);
  fd = test_connect (ts->server);
  got = test_recv_all (fd, 16);
  ck_assert_uint_eq (got->len, 0); /* EOF, nothing echoed */
  g_string_free (got, TRUE);
  close (fd);
  ck_assert (test_wait_until (frees_reach, GINT_TO_POINTER (2), 10));
  ck_assert_int_eq (counts.starts, 2);
  ck_assert_int_eq (counts.handled, 1);
  ck_assert_int_eq (counts.shutdowns, 2);
  test_server_stop (ts);
}
END_TEST

static Suite *
request_io_suite (void)
{
  Suite *s = suite_create ("request-io");
  TCase *tc = tcase_create ("files");

  tcase_add_test (tc, test_files);
  tcase_add_test (tc, test_plain);
  suite_add_tcase (s, tc);
  tc = tcase_create ("server");
  /* sync, threading, threadpooling: the counters live in this process. */
  tcase_add_loop_test (tc, test_server, 0, 3);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (request_io_suite ());
}
