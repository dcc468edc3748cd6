/* gnutls-private.h: what the two GnuTLS files of lib/tls share: the
 * credentials (gnutls-creds.c builds them, gnutls.c makes sessions from
 * them).
 */
#pragma once

#include "tls/tls-private.h"

#include <gnutls/gnutls.h>

struct _SsTlsCreds {
  gint refs;  /* (atomic) */
  gnutls_certificate_credentials_t cert;
  gnutls_priority_t priority;
  gnutls_datum_t *alpn;
  guint n_alpn;
  SsTlsVerifyMode verify_mode;
};
