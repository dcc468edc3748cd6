/* pool-helpers.c: pool servers and the gate for the pool's tests. */
#include "config.h"
#include "pool-helpers.h"

#include <pthread.h>
#include <string.h>

SsServer *
pool_test_server_new (const SsServerClass *klass, const char *transport,
                      const SsHandlerClass *handler, guint min, guint max, guint spare)
{
  g_autofree char *address = test_address_for (transport);
  GError *error = NULL;
  SsStrategy *strategy = ss_thread_pool_strategy_new (min, max, spare, &error);
  SsServer *server;

  ck_assert_msg (strategy != NULL, "%s", error ? error->message : "?");
  server = ss_server_new (klass, address, handler, strategy, TRUE, &error);
  ck_assert_msg (server != NULL, "%s", error ? error->message : "?");
  return server;
}

SsServerStats
pool_test_stats (SsServer *server)
{
  SsServerStats stats;

  ss_server_get_stats (server, &stats);
  return stats;
}

/* ------------------------------------------------------------ the gate */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  gboolean closed;
  guint allowance;   /* handlers that may still pass the closed gate */
  guint waiting;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, FALSE, 0, 0 };

void
pool_gate_close (void)
{
  pthread_mutex_lock (&gate.lock);
  gate.closed = TRUE;
  gate.allowance = 0;
  pthread_mutex_unlock (&gate.lock);
}

void
pool_gate_let_through (guint n)
{
  pthread_mutex_lock (&gate.lock);
  gate.allowance += n;
  pthread_cond_broadcast (&gate.cond);
  pthread_mutex_unlock (&gate.lock);
}

void
pool_gate_open (void)
{
  pthread_mutex_lock (&gate.lock);
  gate.closed = FALSE;
  pthread_cond_broadcast (&gate.cond);
  pthread_mutex_unlock (&gate.lock);
}

void
pool_gate_pass (void)
{
  pthread_mutex_lock (&gate.lock);
  gate.waiting++;
  while (gate.closed && gate.allowance == 0)
    pthread_cond_wait (&gate.cond, &gate.lock);
  if (gate.closed)
    gate.allowance--;
  gate.waiting--;
  pthread_mutex_unlock (&gate.lock);
}

guint
pool_gate_waiting (void)
{
  guint n;

  pthread_mutex_lock (&gate.lock);
  n = gate.waiting;
  pthread_mutex_unlock (&gate.lock);
  return n;
}

static gboolean
gate_has (gpointer data)
{
  return pool_gate_waiting () >= GPOINTER_TO_UINT (data);
}

gboolean
pool_gate_wait_for (guint n, double timeout_s)
{
  return test_wait_until (gate_has, GUINT_TO_POINTER (n), timeout_s);
}

/* ------------------------------------------------------------ gated handlers */

static gboolean
gated_line_handle (SsRequestHandler *handler, GError **error)
{
  SsStreamRequestHandler *self = (SsStreamRequestHandler *) handler;
  g_autoptr (GString) line = g_string_new (NULL);
  gssize got = ss_rfile_readline (self->rfile, line, 1024, error);

  if (got < 0)
    return FALSE;
  pool_gate_pass ();
  return got == 0 || ss_wfile_write (self->wfile, line->str, line->len, error);
}
SS_DEFINE_HANDLER_CLASS_EXTERN (SsStreamRequestHandler, pool_gated_line_handler_class,
                                ss_stream_request_handler_class, .handle = gated_line_handle);

static gboolean
gated_datagram_handle (SsRequestHandler *handler, GError **error)
{
  SsDatagramRequestHandler *self = (SsDatagramRequestHandler *) handler;

  pool_gate_pass ();
  return ss_wfile_write (self->wfile, self->packet, self->packet_len, error);
}
SS_DEFINE_HANDLER_CLASS_EXTERN (SsDatagramRequestHandler, pool_gated_datagram_handler_class,
                                ss_datagram_request_handler_class, .handle = gated_datagram_handle);
