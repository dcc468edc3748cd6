/* ss-http-server: `python3 -m http.server`, on libsocketserver.
 *
 *   ss-http-server [-h] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [port]
 *                  [--strategy NAME] [--min-workers N] [--max-workers N]
 *                  [--min-spare-workers N] [--keepalive-timeout SECONDS] [--version]
 *                  [--request-header-timeout SECONDS]
 *                  [--tls-cert PATH] [--tls-key PATH] [--tls-password-file PATH]
 *
 * Python's command line exactly, parsed the way argparse parses it
 * (--opt VALUE, --opt=VALUE, -oVALUE, unambiguous prefixes of long
 * options, --, errors as "usage: ..." and "ss-http-server: error: ..." with
 * status 2), and its behaviour: SimpleHTTPRequestHandler serving DIRECTORY
 * (default the working directory) with protocol_version VERSION (default
 * HTTP/1.0, which closes every connection after its response; HTTP/1.1
 * keeps them), one log line per request on stderr in Python's format, the
 * first stdout line (flushed at once) "Serving HTTP on HOST port PORT
 * (http://HOST:PORT/) ..." with the real port (0 picks a free one), and on
 * SIGINT Python's "Keyboard interrupt received, exiting." and status 0.
 *
 * Without --bind it serves every interface, IPv6 and IPv4 both (one "::"
 * socket with IPV6_V6ONLY off, as Python's DualStackServer) where the
 * machine has IPv6, else 0.0.0.0; Python binds the first address
 * getaddrinfo gives for no host, which is "::" on most machines but
 * 0.0.0.0 (IPv4 only) on those whose resolver prefers IPv4. With --bind,
 * the first address getaddrinfo gives for ADDRESS, as Python.
 *
 * Beyond Python: --strategy (default threadpooling, the pool's limits as
 * ss-echo's flags set them), --keepalive-timeout (default 5 s: a
 * connection that sends no request for that long is closed),
 * --request-header-timeout (default 20 s: a request whose line and
 * headers have not all come that long after its first byte is cut off,
 * however slowly the client trickles them), SIGTERM
 * stops it as SIGINT does (status 0), --version. A DIRECTORY that is not a
 * readable folder is an error (status 1) where Python would answer 404 to
 * every request. Its command line is a contract: extend it, never break it.
 *
 * HTTPS as Python 3.14's http.server: --tls-cert (the certificate chain),
 * --tls-key (its key, when not in the chain file), --tls-password-file
 * (the key's password: the file's content, stripped), the same usage
 * errors, ALPN "http/1.1" (HTTPSServer's default) and the banner "Serving
 * HTTPS on HOST port PORT (https://HOST:PORT/) ...". The handshake runs in
 * the worker (tls.h), never in the accepting thread. Beyond Python: SIGHUP
 * reloads the certificate, key and password files for new connections
 * (one stderr line says whether it worked; a failed reload keeps the old
 * certificate).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <socketserver/socketserver.h>
#include <socketserver/http.h>

#include "ss-http-server-tls.h"

#define PROG "ss-http-server"
#define EXIT_USAGE 2
#define EXIT_RUNTIME 1

/* The pool's limits here: an idle HTTP/1.1 connection is parked between
 * requests (SimpleHTTPRequestHandler's park_idle: it holds no worker), but
 * one whose request is arriving or being answered holds one, so more
 * workers than ss-echo's defaults; and more spare workers, because
 * connection-per-request traffic (HTTP/1.0) otherwise retires and spawns
 * threads all the time (measured in BENCHMARKS.md: 224 against 127 us of
 * CPU per 1 KiB request). */
#define DEFAULT_MIN_WORKERS 5
#define DEFAULT_MAX_WORKERS 200
#define DEFAULT_MIN_SPARE_WORKERS 20

typedef struct {
  const char *bind;
  const char *directory;
  const char *protocol;
  const char *strategy;
  long port;
  long min_workers, max_workers, min_spare_workers; /* -1: not given */
  double keepalive_timeout;
  double header_timeout;
  const char *tls_cert, *tls_key, *tls_password_file;
} Options;

typedef enum { OPT_BIND, OPT_DIRECTORY, OPT_PROTOCOL, OPT_STRATEGY, OPT_MIN_WORKERS, OPT_MAX_WORKERS,
               OPT_MIN_SPARE_WORKERS, OPT_KEEPALIVE, OPT_HEADER_TIMEOUT, OPT_HELP, OPT_VERSION, OPT_CGI, OPT_TLS_CERT,
               OPT_TLS_KEY, OPT_TLS_PASSWORD_FILE } OptionId;

typedef struct {
  const char *long_name;
  char short_name;
  const char *metavar; /* NULL: takes no value */
  OptionId id;
  const char *help;
} OptionSpec;

static const OptionSpec specs[] = {
  { "help", 'h', NULL, OPT_HELP, "show this help message and exit" },
  { "bind", 'b', "ADDRESS", OPT_BIND, "bind to this address (default: all interfaces)" },
  { "directory", 'd', "DIRECTORY", OPT_DIRECTORY, "serve this directory (default: current directory)" },
  { "protocol", 'p', "VERSION", OPT_PROTOCOL, "conform to this HTTP version (default: HTTP/1.0)" },
  { "cgi", 0, NULL, OPT_CGI, "run as CGI server (not supported: refused)" },
  { "strategy", 0, "NAME", OPT_STRATEGY,
    "where requests run: threadpooling, threading, forking or sync (default: threadpooling)" },
  { "min-workers", 0, "N", OPT_MIN_WORKERS, "threadpooling: workers always kept (default: 5)" },
  { "max-workers", 0, "N", OPT_MAX_WORKERS,
    "threadpooling: most workers at once; each open connection holds one (default: 200)" },
  { "min-spare-workers", 0, "N", OPT_MIN_SPARE_WORKERS,
    "threadpooling: idle workers kept after a burst (default: 20)" },
  { "keepalive-timeout", 0, "SECONDS", OPT_KEEPALIVE,
    "close a connection that sends no request for this long (default: 5)" },
  { "request-header-timeout", 0, "SECONDS", OPT_HEADER_TIMEOUT,
    "cut off a request whose line and headers have not all arrived this long after its "
    "first byte (default: 20)" },
  { "version", 0, NULL, OPT_VERSION, "show the version and exit" },
  { "tls-cert", 0, "PATH", OPT_TLS_CERT, "path to the TLS certificate chain file" },
  { "tls-key", 0, "PATH", OPT_TLS_KEY, "path to the TLS key file" },
  { "tls-password-file", 0, "PATH", OPT_TLS_PASSWORD_FILE, "path to the password file for the TLS key" },
};

static const char usage_line[] =
  "usage: " PROG " [-h] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [--strategy NAME]\n"
  "                      [--min-workers N] [--max-workers N] [--min-spare-workers N]\n"
  "                      [--keepalive-timeout SECONDS]\n"
  "                      [--request-header-timeout SECONDS] [--version]\n"
  "                      [--tls-cert PATH] [--tls-key PATH]\n"
  "                      [--tls-password-file PATH] [port]\n";

static int
usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* argparse's parser.error(): the usage, then "prog: error: ...", status 2. */
static int
usage_error (const char *format, ...)
{
  va_list args;

  fputs (usage_line, stderr);
  fputs (PROG ": error: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  return EXIT_USAGE;
}

static void
print_help (void)
{
  fputs (usage_line, stdout);
  fputs ("\nServe the files of DIRECTORY over HTTP, as `python3 -m http.server` does.\n\n"
         "positional arguments:\n"
         "  port                  bind to this port (default: 8000)\n\n"
         "options:\n", stdout);
  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autofree char *names = NULL;

      if (specs[i].short_name != 0 && specs[i].metavar != NULL)
        names = g_strdup_printf ("-%c %s, --%s %s", specs[i].short_name, specs[i].metavar,
                                 specs[i].long_name, specs[i].metavar);
      else if (specs[i].short_name != 0)
        names = g_strdup_printf ("-%c, --%s", specs[i].short_name, specs[i].long_name);
      else if (specs[i].metavar != NULL)
        names = g_strdup_printf ("--%s %s", specs[i].long_name, specs[i].metavar);
      else
        names = g_strdup_printf ("--%s", specs[i].long_name);
      if (strlen (names) <= 20)
        printf ("  %-20s  %s\n", names, specs[i].help);
      else
        printf ("  %s\n                        %s\n", names, specs[i].help);
    }
  fputs ("\nSIGINT or SIGTERM stop the server (status 0); with --tls-cert, SIGHUP reloads the\n"
         "TLS files for new connections. Status 1: the server cannot run (address in use,\n"
         "unknown host, no such directory, a TLS file it cannot use); 2: a usage error.\n", stdout);
}

/* The spec a long option names: exactly, or as the only option it is a
 * prefix of. */
static const OptionSpec *
find_long (const char *name, gsize len, int *status)
{
  const OptionSpec *match = NULL;
  g_autoptr (GString) candidates = g_string_new (NULL);
  guint matches = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      if (strlen (specs[i].long_name) == len && strncmp (specs[i].long_name, name, len) == 0)
        return &specs[i];
      if (strncmp (specs[i].long_name, name, len) == 0)
        {
          g_string_append_printf (candidates, "%s--%s", matches > 0 ? ", " : "", specs[i].long_name);
          match = &specs[i];
          matches++;
        }
    }
  if (matches == 1)
    return match;
  if (matches > 1)
    *status = usage_error ("ambiguous option: --%.*s could match %s", (int) len, name, candidates->str);
  return NULL;
}

static gboolean
parse_long_value (const char *text, long minimum, long maximum, long *out)
{
  char *end;
  long v;

  errno = 0;
  v = strtol (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < minimum || v > maximum)
    return FALSE;
  *out = v;
  return TRUE;
}

static int
set_option (Options *o, const OptionSpec *spec, const char *value)
{
  g_autofree char *label = spec->short_name != 0
                             ? g_strdup_printf ("-%c/--%s", spec->short_name, spec->long_name)
                             : g_strdup_printf ("--%s", spec->long_name);
  char *end;

  switch (spec->id)
    {
    case OPT_BIND: o->bind = value; break;
    case OPT_DIRECTORY: o->directory = value; break;
    case OPT_PROTOCOL: o->protocol = value; break;
    case OPT_STRATEGY: o->strategy = value; break;
    case OPT_TLS_CERT: o->tls_cert = value; break;
    case OPT_TLS_KEY: o->tls_key = value; break;
    case OPT_TLS_PASSWORD_FILE: o->tls_password_file = value; break;
    case OPT_MIN_WORKERS:
    case OPT_MAX_WORKERS:
    case OPT_MIN_SPARE_WORKERS:
      {
        long *slot = spec->id == OPT_MIN_WORKERS ? &o->min_workers
                     : spec->id == OPT_MAX_WORKERS ? &o->max_workers : &o->min_spare_workers;

        if (!parse_long_value (value, spec->id == OPT_MAX_WORKERS ? 1 : 0, 100000, slot))
          return usage_error ("argument %s: invalid count: '%s' (a whole number%s)", label, value,
                              spec->id == OPT_MAX_WORKERS ? ", at least 1" : "");
        break;
      }
    case OPT_KEEPALIVE:
    case OPT_HEADER_TIMEOUT:
      {
        double *seconds = spec->id == OPT_KEEPALIVE ? &o->keepalive_timeout : &o->header_timeout;

        *seconds = g_ascii_strtod (value, &end);
        if (end == value || *end != '\0' || !(*seconds >= 0) || *seconds > 1e6)
          return usage_error ("argument %s: invalid number of seconds: '%s'", label, value);
        break;
      }
    default:
      g_assert_not_reached ();
    }
  return 0;
}

/* argparse's handling of argv. Returns -1 to go on, else an exit status. */
static int
parse_args (int argc, char **argv, Options *o)
{
  gboolean only_positional = FALSE;
  gboolean have_port = FALSE;

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];
      const OptionSpec *spec = NULL;
      const char *value = NULL;
      int status = 0;

      if (only_positional || arg[0] != '-' || arg[1] == '\0'
          || (g_ascii_isdigit (arg[1]) && strchr (arg, '=') == NULL))
        {
          /* The port (argparse takes "-1" as a negative number here). */
          if (have_port)
            return usage_error ("unrecognized arguments: %s", arg);
          if (!parse_long_value (arg, G_MINLONG, G_MAXLONG, &o->port))
            return usage_error ("argument port: invalid int value: '%s'", arg);
          if (o->port < 0 || o->port > 65535)
            return usage_error ("argument port: %ld is not a port number (0 to 65535; 0 picks a free one)",
                                o->port);
          have_port = TRUE;
          continue;
        }
      if (strcmp (arg, "--") == 0)
        {
          only_positional = TRUE;
          continue;
        }
      if (arg[1] == '-')
        {
          const char *eq = strchr (arg + 2, '=');

          spec = find_long (arg + 2, eq != NULL ? (gsize) (eq - arg - 2) : strlen (arg + 2), &status);
          if (status != 0)
            return status;
          if (eq != NULL)
            value = eq + 1;
        }
      else
        {
          for (gsize k = 0; k < G_N_ELEMENTS (specs); k++)
            if (specs[k].short_name == arg[1])
              spec = &specs[k];
          if (spec != NULL && arg[2] != '\0')
            value = arg[2] == '=' ? arg + 3 : arg + 2;
        }
      if (spec == NULL)
        return usage_error ("unrecognized arguments: %s", arg);
      if (spec->metavar == NULL)
        {
          if (value != NULL)
            return usage_error ("argument --%s: ignored explicit argument '%s'", spec->long_name, value);
          if (spec->id == OPT_HELP)
            {
              print_help ();
              return EXIT_SUCCESS;
            }
          if (spec->id == OPT_VERSION)
            {
              printf ("%s (%s) %s\n", PROG, PACKAGE_NAME, PACKAGE_VERSION);
              return EXIT_SUCCESS;
            }
          return usage_error ("argument --cgi: CGIHTTPRequestHandler is not supported");
        }
      if (value == NULL)
        {
          if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0'
                                && !g_ascii_isdigit (argv[i + 1][1])))
            {
              if (spec->short_name != 0)
                return usage_error ("argument -%c/--%s: expected one argument", spec->short_name,
                                    spec->long_name);
              return usage_error ("argument --%s: expected one argument", spec->long_name);
            }
          value = argv[++i];
        }
      if ((status = set_option (o, spec, value)) != 0)
        return status;
    }
  /* Python 3.14's checks, in its order. */
  if (o->tls_key != NULL && o->tls_cert == NULL)
    return usage_error ("--tls-key requires --tls-cert to be set");
  if (o->tls_password_file != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *contents = NULL;

      if (o->tls_cert == NULL)
        return usage_error ("--tls-password-file requires --tls-cert to be set");
      if (!g_file_get_contents (o->tls_password_file, &contents, NULL, &error))
        return usage_error ("Failed to read TLS password file: %s", error->message);
    }
  return -1;
}

/* ---------------------------------------------------------------- the server */

/* Python's DualStackServer: IPV6_V6ONLY off before binding, so that "::"
 * takes IPv4 connections too (whatever net.ipv6.bindv6only says). */
static gboolean
dual_stack_server_bind (SsServer *server, GError **error)
{
  if (ss_address_family (&server->server_address) == AF_INET6 && server->socket_fd < 0)
    {
      int fd = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      int zero = 0;

      if (fd >= 0)
        {
          (void) setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
          server->socket_fd = fd; /* TCPServer.server_bind binds the socket it finds */
        }
    }
  return ss_http_server_class.server_bind (server, error); /* super() */
}

static const SsServerClass dual_stack_server_class = {
  .name = "DualStackServer",
  .parent = &ss_http_server_class,
  .server_bind = dual_stack_server_bind,
};

/* The address to bind: see the top of the file. */
static gboolean
resolve_address (const Options *o, SsAddress *out, GError **error)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
  struct addrinfo *res = NULL;
  char port[16];
  int probe, r;

  memset (out, 0, sizeof *out);
  if (o->bind == NULL)
    {
      probe = socket (AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (probe >= 0)
        {
          struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &out->storage;

          close (probe);
          sin6->sin6_family = AF_INET6;
          sin6->sin6_addr = in6addr_any;
          sin6->sin6_port = htons ((guint16) o->port);
          out->len = sizeof *sin6;
        }
      else
        {
          struct sockaddr_in *sin = (struct sockaddr_in *) &out->storage;

          sin->sin_family = AF_INET;
          sin->sin_addr.s_addr = htonl (INADDR_ANY);
          sin->sin_port = htons ((guint16) o->port);
          out->len = sizeof *sin;
        }
      return TRUE;
    }
  g_snprintf (port, sizeof port, "%ld", o->port);
  r = getaddrinfo (o->bind, port, &hints, &res);
  if (r != 0 || res == NULL || res->ai_addrlen > sizeof out->storage)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_RESOLVE,
                   "Could not resolve --bind %s: %s (give a host name this machine resolves, "
                   "or an address such as 127.0.0.1 or ::1)",
                   o->bind, r != 0 ? gai_strerror (r) : "no address");
      if (res != NULL)
        freeaddrinfo (res);
      return FALSE;
    }
  memcpy (&out->storage, res->ai_addr, res->ai_addrlen);
  out->len = res->ai_addrlen;
  freeaddrinfo (res);
  return TRUE;
}

static SsStrategy *
make_strategy (const Options *o, GError **error)
{
  gboolean pool = strcmp (o->strategy, "threadpooling") == 0;
  SsStrategy *strategy;

  if (!pool && (o->min_workers != -1 || o->max_workers != -1 || o->min_spare_workers != -1))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "--min-workers, --max-workers and --min-spare-workers need --strategy=threadpooling");
      return NULL;
    }
  if (pool)
    {
      /* Defaults never contradict a limit that was given. */
      guint max = o->max_workers != -1 ? (guint) o->max_workers : DEFAULT_MAX_WORKERS;
      guint min = o->min_workers != -1 ? (guint) o->min_workers : MIN (DEFAULT_MIN_WORKERS, max);
      guint spare = o->min_spare_workers != -1 ? (guint) o->min_spare_workers
                                               : MIN (DEFAULT_MIN_SPARE_WORKERS, max);

      return ss_thread_pool_strategy_new (min, max, spare, error);
    }
  strategy = ss_strategy_new_by_name (o->strategy, error);
  if (strategy != NULL && ss_is_threading_strategy (strategy))
    ss_threading_strategy_set_daemon_threads (strategy, TRUE); /* ThreadingHTTPServer */
  return strategy;
}

static int
fail (int status, const char *message)
{
  fprintf (stderr, PROG ": %s\n", message);
  return status;
}

static int
serve (SsServer *server)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *host = ss_address_host_string (&server->server_address);
  guint port = ss_server_port (server);
  gboolean tls = ss_server_get_tls_context (server) != NULL;
  SsHttpsReloader *reloader = NULL;
  SsSignalWatch *watch;
  gboolean ok;
  int signal;

  watch = ss_server_shutdown_on_signals (server, &error);
  if (watch == NULL)
    return fail (EXIT_RUNTIME, error->message);
  if (tls)
    reloader = ss_https_reloader_start (server);
  printf ("Serving %s on %s port %u (%s://%s%s%s:%u/) ...\n", tls ? "HTTPS" : "HTTP", host, port,
          tls ? "https" : "http", strchr (host, ':') != NULL ? "[" : "", host,
          strchr (host, ':') != NULL ? "]" : "", port);
  fflush (stdout);

  ok = ss_server_serve_forever (server, 0.5, &error);
  ss_https_reloader_stop (reloader);
  ss_server_server_close (server);
  signal = ss_signal_watch_signal (watch);
  ss_signal_watch_free (watch);
  if (!ok)
    return fail (EXIT_RUNTIME, error->message);
  if (signal == SIGINT)
    {
      printf ("\nKeyboard interrupt received, exiting.\n");
      fflush (stdout);
    }
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  Options o = { .protocol = "HTTP/1.0", .strategy = "threadpooling", .port = 8000,
                .min_workers = -1, .max_workers = -1, .min_spare_workers = -1,
                .keepalive_timeout = 5.0, .header_timeout = 20.0 };
  static SsHTTPHandlerClass handler_class;
  g_autofree char *cwd = NULL;
  g_autoptr (GError) error = NULL;
  SsStrategy *strategy;
  SsServer *server;
  SsAddress address;
  int status;

  if ((status = parse_args (argc, argv, &o)) >= 0)
    return status;
  if (o.directory != NULL && !g_file_test (o.directory, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *message = g_strdup_printf ("--directory %s: %s (give a folder to serve)",
                                                  o.directory, g_strerror (ENOENT));
      return fail (EXIT_RUNTIME, message);
    }
  strategy = make_strategy (&o, &error);
  if (strategy == NULL)
    return usage_error ("%s", error->message);

  /* Python: HandlerClass.protocol_version = protocol, and the directory
   * DualStackServer.finish_request passes. */
  ss_http_handler_class_init (&handler_class, "SimpleHTTPRequestHandler",
                              &ss_simple_http_request_handler_class, 0);
  handler_class.protocol_version = o.protocol;
  /* argparse's default=os.getcwd(), taken once at start. */
  handler_class.directory = o.directory != NULL ? o.directory : (cwd = g_get_current_dir ());
  handler_class.keepalive_timeout = o.keepalive_timeout;
  handler_class.header_timeout = o.header_timeout;

  if (!resolve_address (&o, &address, &error))
    {
      ss_strategy_free (strategy);
      return fail (EXIT_RUNTIME, error->message);
    }
  server = ss_server_new_for_address (&dual_stack_server_class, &address, &handler_class.parent_class,
                                      strategy, FALSE, &error);
  if (server == NULL)
    return fail (EXIT_RUNTIME, error->message);
  server->allow_reuse_address = TRUE; /* HTTPServer's class attribute */
  if (o.tls_cert != NULL
      && !ss_https_server_use_tls (server, o.tls_cert, o.tls_key, o.tls_password_file, &error))
    {
      ss_server_free (server);
      return fail (EXIT_RUNTIME, error->message);
    }
  if (!ss_server_server_bind (server, &error) || !ss_server_server_activate (server, &error))
    {
      ss_server_free (server);
      return fail (EXIT_RUNTIME, error->message);
    }
  status = serve (server);
  ss_server_free (server);
  return status;
}
