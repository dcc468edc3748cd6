/* tls-helpers.h: test certificates and a GnuTLS client for the TLS tests.
 *
 * The certificates are made at test time by tests/tls-certs.sh (openssl)
 * in the test's temporary folder, once per process: nothing is committed,
 * nothing expires. The client verifies the server's certificate against
 * the test CA, as a real client would, with 10 s socket timeouts.
 */
#pragma once

#include "helpers.h"

/* The folder holding the certificates (tls-certs.sh lists them), made on
 * the first call; NULL when there is no openssl command to make them
 * (main() then returns test_skip_program). */
const char *test_tls_dir (void);
/* test_tls_dir()/NAME (transfer full). */
char *test_tls_file (const char *name);

/* A context with server.pem / server-key.pem and a 10 s handshake timeout. */
SsTlsContext *test_tls_context (void);

typedef struct _TestTlsClient TestTlsClient;

/* Connects to @server and runs a TLS handshake, verifying the server
 * against ca.pem; with @cert (a file name in test_tls_dir) it presents
 * that client certificate (@cert-key.pem beside it: "client" -> client.pem
 * and client-key.pem). Returns NULL and sets @error when the handshake
 * fails. @alpn: protocols to offer, or NULL. */
TestTlsClient *test_tls_connect_full (SsServer *server, const char *cert, const char *alpn,
                                      GError **error);
/* The same, failing the test when the handshake fails. */
TestTlsClient *test_tls_connect (SsServer *server);
void test_tls_send (TestTlsClient *client, const void *data, gsize len);
/* Up to and including '\n' (transfer full), or NULL at the end of the stream. */
char *test_tls_recv_line (TestTlsClient *client);
/* Everything up to the end of the stream or @max bytes. Sets *@clean to
 * whether the stream ended with close_notify (may be NULL). */
GString *test_tls_recv_all (TestTlsClient *client, gsize max, gboolean *clean);
/* The subject of the server's certificate (transfer full). */
char *test_tls_server_subject (TestTlsClient *client);
/* close_notify (unless @abrupt) and close. */
void test_tls_close (TestTlsClient *client, gboolean abrupt);
int test_tls_fd (TestTlsClient *client);

/* Echo one line over a new TLS connection and check it comes back. */
void test_tls_echo_once (SsServer *server, const char *line);
