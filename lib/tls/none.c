/* none.c: the TLS backend of a build without TLS (configure --with-tls=no,
 * or no GnuTLS found).
 *
 * ss_tls_context_new and ss_server_set_tls_context fail with
 * SS_ERROR_NOT_SUPPORTED saying so (context.c), so no context, credentials
 * or TLS connection ever exists; these only keep the rest linkable.
 */
#include "tls/tls-private.h"

const char *
ss__tls_backend_version (void)
{
  return NULL;
}

SsTlsCreds *
ss__tls_creds_build (const SsTlsSettings *settings, GError **error)
{
  ss__tls_set_not_built (error);
  return NULL;
}

gboolean
ss__tls_check_ca_file (const char *cafile, GError **error)
{
  ss__tls_set_not_built (error);
  return FALSE;
}

SsTlsCreds *
ss__tls_creds_ref (SsTlsCreds *creds)
{
  return creds;
}

void
ss__tls_creds_unref (SsTlsCreds *creds)
{
}

/* Never on a request: nothing makes a TLS connection in this build. */
const SsRequestIO ss__tls_io = {
  .name = "tls (not built)",
};
