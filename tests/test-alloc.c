/* test-alloc.c: what the request path allocates.
 *
 * The accept path must allocate nothing when nothing is pending (every
 * lost race between accepting workers is one), and a request must cost
 * one allocation with its handler instance, plus what the handler itself
 * uses. This program counts the malloc, calloc and realloc calls the
 * calling thread makes inside ss_server_handle_pending, by defining those
 * functions itself (the dynamic linker binds the library's and GLib's
 * calls to them) and passing each on to glibc. A sync server runs the
 * request inline, so everything the request costs happens in the count.
 *
 * Sanitizer builds and valgrind replace malloc themselves: there the
 * program reports SKIP (test_skip_program).
 */
#include "config.h"
#include "helpers.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CAN_COUNT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CAN_COUNT 0
#endif
#endif
#ifndef CAN_COUNT
#define CAN_COUNT 1
#endif

#if CAN_COUNT
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void __libc_free (void *ptr);

static __thread int counting;
static __thread unsigned long counted;

void *malloc (size_t size);
void *calloc (size_t n, size_t size);
void *realloc (void *ptr, size_t size);
void free (void *ptr);

void *
malloc (size_t size)
{
  counted += counting;
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  counted += counting;
  return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
  counted += counting;
  return __libc_realloc (ptr, size);
}

void
free (void *ptr)
{
  __libc_free (ptr);
}
#endif

/* Allocations made by this thread while ss_server_handle_pending runs. */
static unsigned long
allocations_in_handle_pending (SsServer *server, guint expect_taken)
{
#if CAN_COUNT
  guint taken;

  counted = 0;
  counting = 1;
  taken = ss_server_handle_pending (server, 1);
  counting = 0;
  ck_assert_uint_eq (taken, expect_taken);
  return counted;
#else
  return 0;
#endif
}

static SsServer *
new_sync_server (const SsServerClass *klass, const char *address, const SsHandlerClass *handler)
{
  GError *error = NULL;
  SsServer *server = ss_server_new (klass, address, handler, NULL, TRUE, &error);

  ck_assert_msg (server != NULL, "%s", error != NULL ? error->message : "?");
  return server;
}

/* Waits until the listening socket has a connection pending. */
static void
wait_pending (SsServer *server)
{
  struct pollfd pfd = { .fd = server->socket_fd, .events = POLLIN };

  ck_assert_int_eq (poll (&pfd, 1, 10000), 1);
}

START_TEST (test_nothing_pending_allocates_nothing)
{
  SsServer *tcp = new_sync_server (&ss_tcp_server_class, "127.0.0.1:0", &ss_stream_echo_handler_class);
  SsServer *udp = new_sync_server (&ss_udp_server_class, "127.0.0.1:0", &ss_datagram_echo_handler_class);

  /* Warm up lazily made things (the error quark, GLib's tables). */
  allocations_in_handle_pending (tcp, 0);
  ck_assert_uint_eq (allocations_in_handle_pending (tcp, 0), 0);
  ck_assert_uint_eq (allocations_in_handle_pending (udp, 0), 0);
  ss_server_free (tcp);
  ss_server_free (udp);
}
END_TEST

/* A handler that writes its reply with ss_sendall, as the post's benchmark
 * server does, and allocates nothing itself. */
static gboolean
reply_handle (SsRequestHandler *handler, GError **error)
{
  return ss_sendall (handler->request->fd, "hi\n", 3, error);
}

typedef struct {
  SsRequestHandler base;
  char scratch[200];
} ReplyHandler;

SS_DEFINE_HANDLER_CLASS (ReplyHandler, reply_class, ss_base_request_handler_class,
                         .handle = reply_handle);

/* Serves one connection inline with @klass; returns the allocations that
 * took and checks the reply arrived. */
static unsigned long
allocations_of_one_request (const SsHandlerClass *klass)
{
  SsServer *server = new_sync_server (&ss_tcp_server_class, "127.0.0.1:0", klass);
  g_autoptr (GString) got = NULL;
  unsigned long n;
  int fd;

  fd = test_connect (server);
  wait_pending (server);
  n = allocations_in_handle_pending (server, 1);
  got = test_recv_all (fd, 64);
  ck_assert_str_eq (got->str, "hi\n");
  close (fd);
  ss_server_free (server);
  return n;
}

START_TEST (test_request_is_one_allocation)
{
  /* The request with its 200-byte handler instance: one allocation. */
  ck_assert_uint_eq (allocations_of_one_request (&reply_class), 1);
}
END_TEST

/* A StreamRequestHandler that writes without reading: its rfile (made by
 * setup) allocates no buffer until it reads, and the unbuffered wfile
 * none at all: request, rfile and wfile structs. */
static gboolean
stream_reply_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;

  return ss_wfile_write (self->wfile, "hi\n", 3, error);
}

SS_DEFINE_HANDLER_CLASS (SsStreamRequestHandler, stream_reply_class,
                         ss_stream_request_handler_class, .handle = stream_reply_handle);

START_TEST (test_stream_handler_budget)
{
  ck_assert_uint_eq (allocations_of_one_request (&stream_reply_class), 3);
}
END_TEST

static Suite *
alloc_suite (void)
{
  Suite *s = suite_create ("alloc");
  TCase *tc = tcase_create ("request-path");

  tcase_add_test (tc, test_nothing_pending_allocates_nothing);
  tcase_add_test (tc, test_request_is_one_allocation);
  tcase_add_test (tc, test_stream_handler_budget);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  if (!CAN_COUNT || g_getenv ("SS_VALGRIND") != NULL)
    {
      return test_skip_program ("sanitizers and valgrind replace malloc; the counts need glibc's");
    }
  return test_run_suite (alloc_suite ());
}
