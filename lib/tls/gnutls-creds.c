/* gnutls-creds.c: the GnuTLS credentials a TLS context builds from its
 * settings (tls-private.h): the certificate chain and key, read and
 * checked here so that every failure names its file and says what is
 * wrong (unreadable, no certificate, an encrypted key without or with a
 * wrong password, a key of another certificate), the CA file, the
 * priority (the library's defaults restricted to the allowed versions)
 * and the ALPN list. Built whole or not at all; shared by reference by
 * every connection made from them.
 */
#include "tls/gnutls-private.h"

#include <string.h>

#include <gnutls/x509.h>

const char *
ss__tls_backend_version (void)
{
  static char version[64];
  static gsize once;

  if (g_once_init_enter (&once))
    {
      g_snprintf (version, sizeof version, "GnuTLS %s", gnutls_check_version (NULL));
      g_once_init_leave (&once, 1);
    }
  return version;
}

/* ---------------------------------------------------------------- credentials */

SsTlsCreds *
ss__tls_creds_ref (SsTlsCreds *creds)
{
  g_atomic_int_inc (&creds->refs);
  return creds;
}

void
ss__tls_creds_unref (SsTlsCreds *creds)
{
  if (creds == NULL || !g_atomic_int_dec_and_test (&creds->refs))
    return;
  if (creds->cert != NULL)
    gnutls_certificate_free_credentials (creds->cert);
  if (creds->priority != NULL)
    gnutls_priority_deinit (creds->priority);
  for (guint i = 0; i < creds->n_alpn; i++)
    g_free (creds->alpn[i].data);
  g_free (creds->alpn);
  g_free (creds);
}

/* Reads @path whole into @out (g_free its data). */
static gboolean
read_pem (const char *path, const char *what, gnutls_datum_t *out, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *contents;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_TLS, "Could not read the TLS %s: %s", what,
                   local->message);
      return FALSE;
    }
  out->data = (unsigned char *) contents;
  out->size = (unsigned int) len;
  return TRUE;
}

static gboolean
load_trust (gnutls_certificate_credentials_t cert, const char *cafile, GError **error)
{
  gnutls_datum_t pem;
  int n;

  if (!read_pem (cafile, "CA file", &pem, error))
    return FALSE;
  n = gnutls_certificate_set_x509_trust_mem (cert, &pem, GNUTLS_X509_FMT_PEM);
  g_free (pem.data);
  if (n <= 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                   "The CA file %s holds no usable PEM certificate%s%s: give the file of the "
                   "CA that signs the client certificates",
                   cafile, n < 0 ? ": " : "", n < 0 ? gnutls_strerror (n) : "");
      return FALSE;
    }
  return TRUE;
}

gboolean
ss__tls_check_ca_file (const char *cafile, GError **error)
{
  gnutls_certificate_credentials_t cert;
  gboolean ok;

  if (gnutls_certificate_allocate_credentials (&cert) < 0)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_NO_RESOURCES, "Out of memory for TLS credentials");
      return FALSE;
    }
  ok = load_trust (cert, cafile, error);
  gnutls_certificate_free_credentials (cert);
  return ok;
}

static gboolean
load_key_pair (gnutls_certificate_credentials_t cert, const SsTlsSettings *s, GError **error)
{
  const char *keyfile = s->keyfile != NULL ? s->keyfile : s->certfile;
  gnutls_datum_t cert_pem = { NULL, 0 }, key_pem = { NULL, 0 };
  gboolean encrypted;
  int ret;

  if (!read_pem (s->certfile, "certificate file", &cert_pem, error))
    return FALSE;
  if (!read_pem (keyfile, "key file", &key_pem, error))
    {
      g_free (cert_pem.data);
      return FALSE;
    }
  encrypted = g_strstr_len ((const char *) key_pem.data, key_pem.size, "ENCRYPTED") != NULL;
  ret = gnutls_certificate_set_x509_key_mem2 (cert, &cert_pem, &key_pem, GNUTLS_X509_FMT_PEM,
                                              s->password, 0);
  memset (key_pem.data, 0, key_pem.size);
  g_free (key_pem.data);
  g_free (cert_pem.data);
  if (ret >= 0)
    return TRUE;

  if (encrypted && s->password == NULL)
    g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                 "The TLS key in %s is encrypted: give its password (a password file)", keyfile);
  else if (encrypted && (ret == GNUTLS_E_DECRYPTION_FAILED || ret == GNUTLS_E_ASN1_DER_ERROR
                         || ret == GNUTLS_E_ASN1_TAG_ERROR || ret == GNUTLS_E_PK_INVALID_PRIVKEY))
    g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                 "Could not decrypt the TLS key in %s: wrong password (%s)", keyfile,
                 gnutls_strerror (ret));
  else if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
    g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                 "The TLS key in %s does not belong to the certificate in %s: give the key "
                 "the certificate was made for", keyfile, s->certfile);
  else
    g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                 "Could not load the TLS certificate %s with the key %s: %s (both must be PEM: "
                 "the certificate chain, server certificate first, and its private key)",
                 s->certfile, keyfile, gnutls_strerror (ret));
  return FALSE;
}

static gboolean
set_priority (SsTlsCreds *creds, SsTlsVersion minimum, GError **error)
{
  /* The library's default ciphers and groups (its system policy),
   * restricted to the versions allowed. */
  const char *versions = minimum == SS_TLS_VERSION_1_3 ? "-VERS-ALL:+VERS-TLS1.3"
                                                       : "-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
  const char *where = NULL;
  int ret = gnutls_priority_init2 (&creds->priority, versions, &where,
                                   GNUTLS_PRIORITY_INIT_DEF_APPEND);

  if (ret < 0)
    {
      creds->priority = NULL;
      g_set_error (error, SS_ERROR, SS_ERROR_TLS,
                   "GnuTLS refused the protocol settings \"%s\" (at \"%s\"): %s; check the "
                   "system's GnuTLS policy", versions, where != NULL ? where : "", gnutls_strerror (ret));
      return FALSE;
    }
  return TRUE;
}

SsTlsCreds *
ss__tls_creds_build (const SsTlsSettings *s, GError **error)
{
  SsTlsCreds *creds = g_new0 (SsTlsCreds, 1);

  creds->refs = 1;
  creds->verify_mode = s->verify_mode;
  if (gnutls_certificate_allocate_credentials (&creds->cert) < 0)
    {
      creds->cert = NULL;
      g_set_error_literal (error, SS_ERROR, SS_ERROR_NO_RESOURCES, "Out of memory for TLS credentials");
      goto fail;
    }
  if (!load_key_pair (creds->cert, s, error))
    goto fail;
  if (s->cafile != NULL && !load_trust (creds->cert, s->cafile, error))
    goto fail;
  if (!set_priority (creds, s->minimum_version, error))
    goto fail;
  for (guint i = 0; s->alpn != NULL && s->alpn[i] != NULL; i++)
    creds->n_alpn++;
  creds->alpn = g_new0 (gnutls_datum_t, MAX (creds->n_alpn, 1));
  for (guint i = 0; i < creds->n_alpn; i++)
    {
      creds->alpn[i].data = (unsigned char *) g_strdup (s->alpn[i]);
      creds->alpn[i].size = (unsigned int) strlen (s->alpn[i]);
    }
  return creds;

fail:
  ss__tls_creds_unref (creds);
  return NULL;
}

