/* ss-http-server-tls.c: what ss-http-server's --tls-cert, --tls-key and
 * --tls-password-file do (Python 3.14's http.server HTTPSServer: the
 * certificate chain, its key and password, ALPN http/1.1), and SIGHUP,
 * which reloads those files for new connections. The reload runs in a
 * thread of its own that GLib hands the signal to (a GMainContext with a
 * unix signal source), never in a signal handler and never while a lock
 * of the server is held; connections already open keep their certificate.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#include "ss-http-server-tls.h"

gboolean
ss_https_server_use_tls (SsServer *server, const char *cert, const char *key,
                         const char *password_file, GError **error)
{
  static const char *const alpn[] = { "http/1.1", NULL };
  g_autoptr (SsTlsContext) tls = ss_tls_context_new (error);

  if (tls == NULL)
    return FALSE;
  if (password_file != NULL
        ? !ss_tls_context_load_cert_chain_password_file (tls, cert, key, password_file, error)
        : !ss_tls_context_load_cert_chain (tls, cert, key, NULL, error))
    return FALSE;
  return ss_tls_context_set_alpn_protocols (tls, alpn, error)
         && ss_server_set_tls_context (server, tls, error);
}

struct _SsHttpsReloader {
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
};

static gboolean
reload (gpointer server)
{
  g_autoptr (GError) error = NULL;

  if (ss_tls_context_reload (ss_server_get_tls_context (server), &error))
    fprintf (stderr, "ss-http-server: SIGHUP: reloaded the TLS certificate and key for new connections\n");
  else
    fprintf (stderr, "ss-http-server: SIGHUP: %s (still serving the previous certificate)\n",
             error->message);
  return G_SOURCE_CONTINUE;
}

static gpointer
run (gpointer data)
{
  SsHttpsReloader *reloader = data;

  g_main_context_push_thread_default (reloader->context);
  g_main_loop_run (reloader->loop);
  g_main_context_pop_thread_default (reloader->context);
  return NULL;
}

SsHttpsReloader *
ss_https_reloader_start (SsServer *server)
{
  SsHttpsReloader *reloader = g_new0 (SsHttpsReloader, 1);
  GSource *source = g_unix_signal_source_new (SIGHUP);

  reloader->context = g_main_context_new ();
  reloader->loop = g_main_loop_new (reloader->context, FALSE);
  g_source_set_callback (source, reload, server, NULL);
  g_source_attach (source, reloader->context);
  g_source_unref (source);
  reloader->thread = g_thread_new ("sighup", run, reloader);
  return reloader;
}

/* Runs in the loop's thread: a quit asked before the loop ran would be lost. */
static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
ss_https_reloader_stop (SsHttpsReloader *reloader)
{
  if (reloader == NULL)
    return;
  g_main_context_invoke (reloader->context, quit, reloader->loop);
  g_thread_join (reloader->thread);
  g_main_loop_unref (reloader->loop);
  g_main_context_unref (reloader->context);
  g_free (reloader);
}
