/* context.c: the TLS context (Python's SSLContext), the server hook that
 * makes every accepted connection TLS, and what a handler may ask of a
 * TLS request.
 *
 * A context records what it was given (file paths, password or password
 * file, minimum version, ALPN list, CA file, verify mode) and holds the
 * credentials the backend built from them (tls-private.h). Every change
 * builds new credentials from the whole set first and swaps them in only
 * when that succeeded, so a failing call -- or a reload with a broken new
 * certificate -- leaves the context serving what it had. Each connection
 * takes a reference to the credentials current when its handshake starts,
 * so a reload changes nothing for connections already made.
 *
 * ss_server_set_tls_context gives the server a wrap hook
 * (ss__server_set_stream_wrap): every stream request the server makes
 * gets request->io = the backend's table and a small SsTlsConnection, in
 * the accepting thread, without I/O; the handshake is io->start, which the
 * core runs where the request runs.
 */
#include "tls/tls-private.h"

#include <string.h>

void
ss__tls_set_not_built (GError **error)
{
  g_set_error_literal (error, SS_ERROR, SS_ERROR_NOT_SUPPORTED,
                       "libsocketserver was built without TLS: install GnuTLS "
                       "(libgnutls28-dev) and configure it --with-tls=gnutls");
}

gboolean
ss_tls_available (void)
{
  return ss__tls_backend_version () != NULL;
}

const char *
ss_tls_library_version (void)
{
  return ss__tls_backend_version ();
}

SsTlsContext *
ss_tls_context_new (GError **error)
{
  SsTlsContext *context;

  if (!ss_tls_available ())
    {
      ss__tls_set_not_built (error);
      return NULL;
    }
  context = g_new0 (SsTlsContext, 1);
  context->refs = 1;
  pthread_mutex_init (&context->lock, NULL);
  context->minimum_version = SS_TLS_VERSION_1_2;
  context->verify_mode = SS_TLS_CERT_NONE;
  context->handshake_timeout = SS_TLS_DEFAULT_HANDSHAKE_TIMEOUT;
  return context;
}

SsTlsContext *
ss_tls_context_ref (SsTlsContext *context)
{
  g_return_val_if_fail (context != NULL, NULL);
  g_atomic_int_inc (&context->refs);
  return context;
}

void
ss_tls_context_unref (SsTlsContext *context)
{
  if (context == NULL || !g_atomic_int_dec_and_test (&context->refs))
    return;
  if (context->current != NULL)
    ss__tls_creds_unref (context->current);
  g_free (context->certfile);
  g_free (context->keyfile);
  if (context->password != NULL)
    memset (context->password, 0, strlen (context->password));
  g_free (context->password);
  g_free (context->password_file);
  g_free (context->cafile);
  g_strfreev (context->alpn);
  pthread_mutex_destroy (&context->lock);
  g_free (context);
}

/* Python 3.14's http.server: the whole file, stripped of surrounding
 * whitespace. Returns: (transfer full) or NULL with @error. */
static char *
read_password_file (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &local))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_TLS, "Could not read the TLS password file: %s",
                   local->message);
      return NULL;
    }
  return g_strstrip (contents);
}

/* The settings a context would have: its own, or the candidate's
 * replacements. Everything here is owned by the caller's strings. */
typedef struct {
  SsTlsSettings settings;
  char *password_owned;  /* read from the password file: freed (and wiped) by settings_clear */
} Candidate;

static void
candidate_clear (Candidate *c)
{
  if (c->password_owned != NULL)
    {
      memset (c->password_owned, 0, strlen (c->password_owned));
      g_free (c->password_owned);
    }
}

/* Builds credentials from @c (reading @password_file if given), and on
 * success makes them current. (lock) held by the caller. */
static gboolean
rebuild_unlocked (SsTlsContext *context, Candidate *c, const char *password_file, GError **error)
{
  SsTlsCreds *creds;

  if (c->settings.certfile == NULL)
    return TRUE; /* nothing to serve yet: built when a certificate is loaded */
  if (password_file != NULL)
    {
      c->password_owned = read_password_file (password_file, error);
      if (c->password_owned == NULL)
        return FALSE;
      c->settings.password = c->password_owned;
    }
  creds = ss__tls_creds_build (&c->settings, error);
  if (creds == NULL)
    return FALSE;
  if (context->current != NULL)
    ss__tls_creds_unref (context->current);
  context->current = creds;
  return TRUE;
}

static Candidate
candidate_from (SsTlsContext *context)
{
  Candidate c = {
    .settings = {
      .certfile = context->certfile,
      .keyfile = context->keyfile,
      .password = context->password,
      .cafile = context->cafile,
      .minimum_version = context->minimum_version,
      .alpn = (const char *const *) context->alpn,
      .verify_mode = context->verify_mode,
    },
  };
  return c;
}

static void
replace_string (char **field, const char *value)
{
  char *old = *field;

  *field = g_strdup (value);
  if (old != NULL)
    memset (old, 0, strlen (old)); /* a password, maybe */
  g_free (old);
}

static gboolean
load_cert_chain (SsTlsContext *context, const char *certfile, const char *keyfile,
                 const char *password, const char *password_file, GError **error)
{
  Candidate c;
  gboolean ok;

  pthread_mutex_lock (&context->lock);
  c = candidate_from (context);
  c.settings.certfile = certfile;
  c.settings.keyfile = keyfile;
  c.settings.password = password;
  ok = rebuild_unlocked (context, &c, password_file, error);
  if (ok)
    {
      replace_string (&context->certfile, certfile);
      replace_string (&context->keyfile, keyfile);
      replace_string (&context->password, password);
      replace_string (&context->password_file, password_file);
    }
  pthread_mutex_unlock (&context->lock);
  candidate_clear (&c);
  return ok;
}

gboolean
ss_tls_context_load_cert_chain (SsTlsContext *context, const char *certfile, const char *keyfile,
                                const char *password, GError **error)
{
  g_return_val_if_fail (context != NULL, FALSE);
  g_return_val_if_fail (certfile != NULL, FALSE);
  return load_cert_chain (context, certfile, keyfile, password, NULL, error);
}

gboolean
ss_tls_context_load_cert_chain_password_file (SsTlsContext *context, const char *certfile,
                                              const char *keyfile, const char *password_file,
                                              GError **error)
{
  g_return_val_if_fail (context != NULL, FALSE);
  g_return_val_if_fail (certfile != NULL, FALSE);
  g_return_val_if_fail (password_file != NULL, FALSE);
  return load_cert_chain (context, certfile, keyfile, NULL, password_file, error);
}

gboolean
ss_tls_context_set_minimum_version (SsTlsContext *context, SsTlsVersion version, GError **error)
{
  Candidate c;
  gboolean ok;

  g_return_val_if_fail (context != NULL, FALSE);
  if (version != SS_TLS_VERSION_1_2 && version != SS_TLS_VERSION_1_3)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "TLS minimum version 0x%04x: use SS_TLS_VERSION_1_2 or SS_TLS_VERSION_1_3",
                   (guint) version);
      return FALSE;
    }
  pthread_mutex_lock (&context->lock);
  c = candidate_from (context);
  c.settings.minimum_version = version;
  ok = rebuild_unlocked (context, &c, context->password_file, error);
  if (ok)
    context->minimum_version = version;
  pthread_mutex_unlock (&context->lock);
  candidate_clear (&c);
  return ok;
}

gboolean
ss_tls_context_set_alpn_protocols (SsTlsContext *context, const char *const *protocols,
                                   GError **error)
{
  Candidate c;
  gboolean ok;

  g_return_val_if_fail (context != NULL, FALSE);
  for (guint i = 0; protocols != NULL && protocols[i] != NULL; i++)
    {
      gsize len = strlen (protocols[i]);

      if (len == 0 || len > 255)
        {
          g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                       "ALPN protocol \"%s\": a name is 1 to 255 bytes (e.g. \"http/1.1\")",
                       protocols[i]);
          return FALSE;
        }
    }
  pthread_mutex_lock (&context->lock);
  c = candidate_from (context);
  c.settings.alpn = protocols != NULL && protocols[0] != NULL ? protocols : NULL;
  ok = rebuild_unlocked (context, &c, context->password_file, error);
  if (ok)
    {
      g_strfreev (context->alpn);
      context->alpn = c.settings.alpn != NULL ? g_strdupv ((char **) protocols) : NULL;
    }
  pthread_mutex_unlock (&context->lock);
  candidate_clear (&c);
  return ok;
}

gboolean
ss_tls_context_load_verify_locations (SsTlsContext *context, const char *cafile, GError **error)
{
  Candidate c;
  gboolean ok;

  g_return_val_if_fail (context != NULL, FALSE);
  g_return_val_if_fail (cafile != NULL, FALSE);
  pthread_mutex_lock (&context->lock);
  c = candidate_from (context);
  c.settings.cafile = cafile;
  /* Without a certificate yet nothing is built: check the file now anyway. */
  if (c.settings.certfile == NULL)
    ok = ss__tls_check_ca_file (cafile, error);
  else
    ok = rebuild_unlocked (context, &c, context->password_file, error);
  if (ok)
    replace_string (&context->cafile, cafile);
  pthread_mutex_unlock (&context->lock);
  candidate_clear (&c);
  return ok;
}

gboolean
ss_tls_context_set_verify_mode (SsTlsContext *context, SsTlsVerifyMode mode, GError **error)
{
  Candidate c;
  gboolean ok;

  g_return_val_if_fail (context != NULL, FALSE);
  pthread_mutex_lock (&context->lock);
  if (mode != SS_TLS_CERT_NONE && context->cafile == NULL)
    {
      pthread_mutex_unlock (&context->lock);
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "Client certificates need the CA file they must chain to: call "
                           "ss_tls_context_load_verify_locations first");
      return FALSE;
    }
  c = candidate_from (context);
  c.settings.verify_mode = mode;
  ok = rebuild_unlocked (context, &c, context->password_file, error);
  if (ok)
    context->verify_mode = mode;
  pthread_mutex_unlock (&context->lock);
  candidate_clear (&c);
  return ok;
}

void
ss_tls_context_set_handshake_timeout (SsTlsContext *context, double seconds)
{
  g_return_if_fail (context != NULL);
  g_return_if_fail (seconds > 0);
  context->handshake_timeout = seconds;
}

gboolean
ss_tls_context_reload (SsTlsContext *context, GError **error)
{
  Candidate c;
  gboolean ok;

  g_return_val_if_fail (context != NULL, FALSE);
  pthread_mutex_lock (&context->lock);
  if (context->certfile == NULL)
    {
      pthread_mutex_unlock (&context->lock);
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "Nothing to reload: no certificate was loaded into this TLS context");
      return FALSE;
    }
  c = candidate_from (context);
  ok = rebuild_unlocked (context, &c, context->password_file, error);
  pthread_mutex_unlock (&context->lock);
  candidate_clear (&c);
  return ok;
}

SsTlsCreds *
ss__tls_context_current_creds (SsTlsContext *context)
{
  SsTlsCreds *creds;

  pthread_mutex_lock (&context->lock);
  creds = context->current != NULL ? ss__tls_creds_ref (context->current) : NULL;
  pthread_mutex_unlock (&context->lock);
  return creds;
}

/* ---------------------------------------------------------------- the server hook */

/* In the accepting thread: no I/O, one small allocation. */
static void
tls_wrap_request (SsServer *server, SsRequest *request, gpointer data)
{
  SsTlsConnection *conn = g_new0 (SsTlsConnection, 1);

  conn->server = server;
  conn->context = ss_tls_context_ref (data);
  request->io = &ss__tls_io;
  request->io_data = conn;
}

gboolean
ss_server_set_tls_context (SsServer *server, SsTlsContext *context, GError **error)
{
  gboolean has_cert;

  if (!ss_tls_available ())
    {
      ss__tls_set_not_built (error);
      return FALSE;
    }
  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (context != NULL, FALSE);

  if (ss__server_resolved_class (server)->socket_type != SOCK_STREAM)
    {
      g_autofree char *addr = ss_server_address_string (server);

      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "TLS on %s: TLS needs a stream server (TCPServer, UnixStreamServer); "
                   "a datagram server would need DTLS", addr);
      return FALSE;
    }
  pthread_mutex_lock (&context->lock);
  has_cert = context->current != NULL;
  pthread_mutex_unlock (&context->lock);
  if (!has_cert)
    {
      g_set_error_literal (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                           "The TLS context has no certificate: call "
                           "ss_tls_context_load_cert_chain first");
      return FALSE;
    }
  ss__server_set_stream_wrap (server, tls_wrap_request, ss_tls_context_ref (context),
                              (GDestroyNotify) ss_tls_context_unref);
  return TRUE;
}

SsTlsContext *
ss_server_get_tls_context (SsServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return ss__server_stream_wrap (server) == tls_wrap_request
             ? ss__server_stream_wrap_data (server) : NULL;
}

/* ---------------------------------------------------------------- per request */

static SsTlsConnection *
connection_of (SsRequest *request)
{
  if (request == NULL || request->io != &ss__tls_io)
    return NULL;
  return request->io_data;
}

gboolean
ss_request_is_tls (SsRequest *request)
{
  return connection_of (request) != NULL;
}

const char *
ss_request_tls_peer_subject (SsRequest *request)
{
  SsTlsConnection *conn = connection_of (request);

  return conn != NULL ? conn->peer_subject : NULL;
}

const char *
ss_request_tls_alpn_protocol (SsRequest *request)
{
  SsTlsConnection *conn = connection_of (request);

  return conn != NULL ? conn->alpn_protocol : NULL;
}

const char *
ss_request_tls_version (SsRequest *request)
{
  SsTlsConnection *conn = connection_of (request);

  return conn != NULL ? conn->version : NULL;
}
