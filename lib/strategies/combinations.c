/* combinations.c: Python's ready-made server classes as constructors.
 *
 * ThreadingTCPServer and its eleven siblings are nothing but a transport
 * class and a strategy, so each constructor is one line of a macro over a
 * strategy maker; there is no per-combination code to drift apart. The
 * thread-pool maker uses the 2008 post's defaults (5, 100, 5), the
 * process-pool maker Net::Server::PreFork's (5, 50, 2).
 */
#include "strategies/strategy-private.h"

typedef SsStrategy *(*StrategyMaker) (GError **error);

static SsStrategy *
make_threading (GError **error)
{
  (void) error;
  return ss_threading_strategy_new ();
}

static SsStrategy *
make_forking (GError **error)
{
  (void) error;
  return ss_forking_strategy_new ();
}

static SsStrategy *
make_thread_pooling (GError **error)
{
  return ss_thread_pool_strategy_new (SS_THREAD_POOL_DEFAULT_MIN_WORKERS,
                                      SS_THREAD_POOL_DEFAULT_MAX_WORKERS,
                                      SS_THREAD_POOL_DEFAULT_MIN_SPARE_WORKERS, error);
}

static SsStrategy *
make_preforking (GError **error)
{
  return ss_preforking_strategy_new (SS_PREFORKING_DEFAULT_MIN_WORKERS,
                                     SS_PREFORKING_DEFAULT_MAX_WORKERS,
                                     SS_PREFORKING_DEFAULT_MIN_SPARE_WORKERS, error);
}

static SsServer *
combination_new (const SsServerClass *klass, StrategyMaker make, const char *address,
                 const SsHandlerClass *handler_class, GError **error)
{
  SsStrategy *strategy;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (handler_class != NULL, NULL);

  strategy = make (error);
  if (strategy == NULL)
    return NULL;
  /* ss_server_new owns the strategy from here, also on failure. */
  return ss_server_new (klass, address, handler_class, strategy, TRUE, error);
}

#define SS_DEFINE_COMBINATION_ONE(prefix, transport, klass)                              \
  SsServer *ss_##prefix##_##transport##_server_new (const char *address,                 \
                                                    const SsHandlerClass *handler_class, \
                                                    GError **error)                      \
  {                                                                                      \
    return combination_new (&(klass), make_##prefix, address, handler_class, error);     \
  }

#define SS_DEFINE_COMBINATION(prefix)                                                    \
  SS_DEFINE_COMBINATION_ONE (prefix, tcp, ss_tcp_server_class)                           \
  SS_DEFINE_COMBINATION_ONE (prefix, udp, ss_udp_server_class)                           \
  SS_DEFINE_COMBINATION_ONE (prefix, unix_stream, ss_unix_stream_server_class)           \
  SS_DEFINE_COMBINATION_ONE (prefix, unix_datagram, ss_unix_datagram_server_class)

SS_DEFINE_COMBINATION (threading)      /* ThreadingTCPServer, ThreadingUDPServer, ... */
SS_DEFINE_COMBINATION (forking)        /* ForkingTCPServer, ForkingUDPServer, ... */
SS_DEFINE_COMBINATION (thread_pooling) /* ThreadPoolingTCPServer, ... */
SS_DEFINE_COMBINATION (preforking)     /* PreForkingTCPServer, ... */

static const struct {
  const char *name;
  const SsServerClass *klass;
} transports[] = {
  { "tcp", &ss_tcp_server_class },
  { "udp", &ss_udp_server_class },
  { "unix", &ss_unix_stream_server_class },
  { "unix-dgram", &ss_unix_datagram_server_class },
};

const SsServerClass *
ss_server_class_by_transport_name (const char *transport, GError **error)
{
  gsize i;

  g_return_val_if_fail (transport != NULL, NULL);

  for (i = 0; i < G_N_ELEMENTS (transports); i++)
    if (g_str_equal (transport, transports[i].name))
      return transports[i].klass;

  g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
               "Unknown transport “%s”: choose tcp, udp, unix or unix-dgram", transport);
  return NULL;
}
