/**
 * SECTION:tls
 * @title: tls.h
 * @short_description: TLS for any stream server (Python's ssl.SSLContext and HTTPSServer)
 * @include: socketserver/socketserver.h
 *
 * A TLS context (SsTlsContext, Python's SSLContext(PROTOCOL_TLS_SERVER))
 * is made once and given to a stream server -- TCPServer, UnixStreamServer,
 * HTTPServer or any class derived from them -- with
 * ss_server_set_tls_context: Python's
 *
 * |[<!-- language="Python" -->
 *     self.socket = context.wrap_socket(self.socket, server_side=True)
 * ]|
 *
 * in HTTPSServer.server_activate. From then on every connection the
 * server accepts is TLS: its rfile and wfile (and ss_request_recv /
 * ss_request_sendall) read and write plaintext through TLS, so every
 * handler runs unchanged.
 *
 * |[<!-- language="C" -->
 *     g_autoptr (SsTlsContext) tls = ss_tls_context_new (&error);
 *     if (tls == NULL
 *         || !ss_tls_context_load_cert_chain (tls, "cert.pem", "key.pem", NULL, &error)
 *         || !ss_server_set_tls_context (server, tls, &error))
 *       ...
 * ]|
 *
 * Unlike Python, the handshake never runs in the thread (or process) that
 * accepts: it runs where the request runs (the pool's worker, the forked
 * child), before the handler, with its own deadline
 * (ss_tls_context_set_handshake_timeout, SS_TLS_DEFAULT_HANDSHAKE_TIMEOUT).
 * A client that sends nothing, sends plain text (HTTP to the TLS port) or
 * a broken ClientHello is refused: the handler does not run, handle_error
 * logs why (SS_ERROR_TLS or SS_ERROR_TIMED_OUT) and the connection is
 * closed. shutdown_request sends close_notify; a client that closes
 * without one is the end of its stream (a debug line), not an error.
 *
 * The library is built on GnuTLS (configure --with-tls; BENCHMARKS.md says
 * why). Built without it, every call that would need TLS fails with
 * SS_ERROR_NOT_SUPPORTED saying so, and ss_tls_available is FALSE.
 *
 * Thread safety: configure a context before giving it to a server; after
 * that only ss_tls_context_reload may be called, from any thread, while
 * the server serves (SIGHUP in ss-http-server): new connections get the
 * new certificate, connections already made keep theirs.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include "server.h"
#include "request.h"

G_BEGIN_DECLS

typedef struct _SsTlsContext SsTlsContext;

/**
 * SsTlsContext:
 *
 * Python's ssl.SSLContext(PROTOCOL_TLS_SERVER): certificates, keys and
 * settings for the connections of one or more servers. Reference-counted,
 * opaque.
 */

/**
 * SsTlsVersion:
 * @SS_TLS_VERSION_1_2: TLS 1.2 (ssl.TLSVersion.TLSv1_2)
 * @SS_TLS_VERSION_1_3: TLS 1.3 (ssl.TLSVersion.TLSv1_3)
 *
 * Python's ssl.TLSVersion values.
 */
typedef enum {
  SS_TLS_VERSION_1_2 = 0x0303,
  SS_TLS_VERSION_1_3 = 0x0304,
} SsTlsVersion;

/**
 * SsTlsVerifyMode:
 * @SS_TLS_CERT_NONE: no client certificate asked for (ssl.CERT_NONE)
 * @SS_TLS_CERT_OPTIONAL: asked for; a client without one is served
 *   (ssl.CERT_OPTIONAL)
 * @SS_TLS_CERT_REQUIRED: asked for; a client without one is refused
 *   (ssl.CERT_REQUIRED)
 *
 * Python's ssl.CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED: whether a client
 * certificate is asked for, and whether a client without one is refused.
 * A certificate a client does send is always verified against the CA file
 * (ss_tls_context_load_verify_locations()).
 */
typedef enum {
  SS_TLS_CERT_NONE,
  SS_TLS_CERT_OPTIONAL,
  SS_TLS_CERT_REQUIRED,
} SsTlsVerifyMode;

/**
 * SS_TLS_DEFAULT_HANDSHAKE_TIMEOUT:
 *
 * The longest a handshake may take by default: 10 seconds.
 */
#define SS_TLS_DEFAULT_HANDSHAKE_TIMEOUT 10.0

/**
 * ss_tls_available:
 *
 * Whether the library was built with TLS (configure --with-tls).
 *
 * Returns: %TRUE when it was
 */
SS_API gboolean ss_tls_available (void);
/**
 * ss_tls_library_version:
 *
 * Python's ssl.OPENSSL_VERSION, for the TLS library this one uses.
 *
 * Returns: (transfer none) (nullable): "GnuTLS 3.7.9", or %NULL when
 *   built without TLS
 */
SS_API const char *ss_tls_library_version (void);

/**
 * ss_tls_context_new:
 * @error: return location for a #GError, or %NULL
 *
 * Python's ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER): TLS 1.2 minimum, the
 * library's default ciphers, no client certificate asked for.
 *
 * Returns: (transfer full) (nullable): unref with ss_tls_context_unref();
 *   %NULL with @error (%SS_ERROR_NOT_SUPPORTED) when the library was
 *   built without TLS
 */
SS_API SsTlsContext *ss_tls_context_new (GError **error);
/**
 * ss_tls_context_ref:
 * @context: a context
 *
 * Takes a reference. Thread-safe.
 *
 * Returns: (transfer full): @context
 */
SS_API SsTlsContext *ss_tls_context_ref (SsTlsContext *context);
/**
 * ss_tls_context_unref:
 * @context: (transfer full) (nullable): a context
 *
 * Drops a reference; the last one frees the context. Thread-safe.
 */
SS_API void ss_tls_context_unref (SsTlsContext *context);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsTlsContext, ss_tls_context_unref)

/**
 * ss_tls_context_load_cert_chain:
 * @context: a context not yet given to a server
 * @certfile: the certificate chain (PEM, the server's certificate first)
 * @keyfile: (nullable): its private key (PEM); %NULL: in @certfile
 * @password: (nullable): the key's password, or %NULL
 * @error: return location for a #GError, or %NULL
 *
 * Python's load_cert_chain(certfile, keyfile=None, password=None): the
 * certificate chain (PEM, the server's certificate first) and its private
 * key (PEM; in @certfile when @keyfile is NULL), decrypted with @password
 * when it is encrypted. Fails with SS_ERROR_TLS naming the file and what
 * is wrong (unreadable, no certificate, key not matching, wrong or missing
 * password), and then leaves the context as it was. The paths and the
 * password are kept for ss_tls_context_reload().
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_tls_context_load_cert_chain (SsTlsContext *context, const char *certfile,
                                                const char *keyfile, const char *password,
                                                GError **error);
/**
 * ss_tls_context_load_cert_chain_password_file:
 * @context: a context not yet given to a server
 * @certfile: the certificate chain (PEM)
 * @keyfile: (nullable): its private key (PEM); %NULL: in @certfile
 * @password_file: a file whose first line is the key's password
 * @error: return location for a #GError, or %NULL
 *
 * ss_tls_context_load_cert_chain() with the password read from
 * @password_file (its first line, without the line end: Python 3.14's
 * http.server --tls-password-file); the file is read again at each
 * reload.
 *
 * Returns: %TRUE on success; %FALSE with @error set (%SS_ERROR_TLS naming
 *   the file)
 */
SS_API gboolean ss_tls_context_load_cert_chain_password_file (SsTlsContext *context,
                                                              const char *certfile,
                                                              const char *keyfile,
                                                              const char *password_file,
                                                              GError **error);

/**
 * ss_tls_context_set_minimum_version:
 * @context: a context not yet given to a server
 * @version: the lowest version served
 * @error: return location for a #GError, or %NULL
 *
 * Python's minimum_version (default TLS 1.2).
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_tls_context_set_minimum_version (SsTlsContext *context, SsTlsVersion version,
                                                    GError **error);

/**
 * ss_tls_context_set_alpn_protocols:
 * @context: a context not yet given to a server
 * @protocols: (array zero-terminated=1) (nullable): the protocols the
 *   server speaks, preferred first; %NULL or empty: no ALPN
 * @error: return location for a #GError, or %NULL
 *
 * Python's set_alpn_protocols(protocols). A client offering none of them
 * is served without ALPN, as Python's server does.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_tls_context_set_alpn_protocols (SsTlsContext *context,
                                                   const char *const *protocols, GError **error);

/**
 * ss_tls_context_load_verify_locations:
 * @context: a context not yet given to a server
 * @cafile: the CA certificates (PEM)
 * @error: return location for a #GError, or %NULL
 *
 * Python's load_verify_locations(cafile): the CAs client certificates must
 * chain to. Also re-read at each reload.
 *
 * Returns: %TRUE on success; %FALSE with @error set (%SS_ERROR_TLS naming
 *   the file)
 */
SS_API gboolean ss_tls_context_load_verify_locations (SsTlsContext *context, const char *cafile,
                                                      GError **error);

/**
 * ss_tls_context_set_verify_mode:
 * @context: a context not yet given to a server
 * @mode: the mode
 * @error: return location for a #GError, or %NULL
 *
 * Python's verify_mode (default %SS_TLS_CERT_NONE). OPTIONAL and REQUIRED
 * need a CA file first; a refused client gets a log line (handle_error)
 * and a closed connection.
 *
 * Returns: %TRUE on success; %FALSE with @error set
 */
SS_API gboolean ss_tls_context_set_verify_mode (SsTlsContext *context, SsTlsVerifyMode mode,
                                                GError **error);

/**
 * ss_tls_context_set_handshake_timeout:
 * @context: a context not yet given to a server
 * @seconds: the deadline, &gt; 0
 *
 * The longest a handshake may take, from the first byte of the client to
 * its last (default %SS_TLS_DEFAULT_HANDSHAKE_TIMEOUT). No Python
 * counterpart (Python's handshake has the socket's timeout).
 */
SS_API void ss_tls_context_set_handshake_timeout (SsTlsContext *context, double seconds);

/**
 * ss_tls_context_reload:
 * @context: a context
 * @error: return location for a #GError, or %NULL
 *
 * Reads the certificate chain, key, password file and CA file again, as
 * given to the calls above, and serves new connections with them; open
 * connections are not touched. Safe from any thread while the server
 * serves (ss-http-server on SIGHUP).
 *
 * Returns: %TRUE on success; on failure %FALSE with %SS_ERROR_TLS naming
 *   the file, the context serving what it had
 */
SS_API gboolean ss_tls_context_reload (SsTlsContext *context, GError **error);

/**
 * ss_server_set_tls_context:
 * @server: a stream server
 * @context: (transfer none): a context with a certificate (the server
 *   takes a reference)
 * @error: return location for a #GError, or %NULL
 *
 * Every connection @server accepts from now on is TLS with @context.
 * Python's HTTPSServer.server_activate wrapping the listening socket.
 * Call it before serving.
 *
 * Returns: %TRUE; %FALSE with %SS_ERROR_INVALID_ARGUMENT for a datagram
 *   server or a context without a certificate, %SS_ERROR_NOT_SUPPORTED
 *   when built without TLS
 */
SS_API gboolean ss_server_set_tls_context (SsServer *server, SsTlsContext *context,
                                           GError **error);
/**
 * ss_server_get_tls_context:
 * @server: a server
 *
 * The server's context.
 *
 * Returns: (transfer none) (nullable): the context, or %NULL
 */
SS_API SsTlsContext *ss_server_get_tls_context (SsServer *server);

/**
 * ss_request_is_tls:
 * @request: a request
 *
 * For a handler, about its request: whether it came through TLS.
 *
 * Returns: %TRUE for a TLS connection
 */
SS_API gboolean ss_request_is_tls (SsRequest *request);
/**
 * ss_request_tls_peer_subject:
 * @request: a request
 *
 * Python's `getpeercert`['subject']: the client certificate's subject as
 * an RFC 4514 string ("CN=alice,O=Example"), verified against the CA
 * file.
 *
 * Returns: (transfer none) (nullable): valid while the request lives;
 *   %NULL when the client sent none, the request is not TLS or its
 *   handshake has not run
 */
SS_API const char *ss_request_tls_peer_subject (SsRequest *request);
/**
 * ss_request_tls_alpn_protocol:
 * @request: a request
 *
 * Python's `selected_alpn_protocol`.
 *
 * Returns: (transfer none) (nullable): valid while the request lives;
 *   %NULL when none was agreed, the request is not TLS or its handshake
 *   has not run
 */
SS_API const char *ss_request_tls_alpn_protocol (SsRequest *request);
/**
 * ss_request_tls_version:
 * @request: a request
 *
 * Python's `version`.
 *
 * Returns: (transfer none) (nullable): "TLSv1.2" or "TLSv1.3"; %NULL when
 *   the request is not TLS or its handshake has not run
 */
SS_API const char *ss_request_tls_version (SsRequest *request);

G_END_DECLS
