/* activation.c: socket activation -- a listening socket inherited instead
 * of bound.
 *
 * systemd's protocol (sd_listen_fds(3)): the sockets are fds 3, 4, ...;
 * LISTEN_FDS says how many and LISTEN_PID names the process they are for,
 * so a child that inherited the environment does not take them too. The
 * same path serves ss-echo's restart (restart.c), which hands its socket
 * to the new process this way. libsystemd is not needed for it: the
 * protocol is two environment variables, parsed here in a few lines (and
 * a program that is not started by systemd, tests included, uses it all
 * the same).
 *
 * Adopting checks that the socket is what the server's class serves --
 * the family (INET/INET6 for the TCP and UDP classes, AF_UNIX for the
 * Unix ones), the type (stream or datagram) and, for a stream socket,
 * that it listens -- and says what is wrong in a GError naming the fd.
 * An adopted Unix socket's file is not the server's to remove: systemd
 * (or the process that bound it) owns it, so server_close leaves it.
 */
#include "ops/ops-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *
family_name (int family)
{
  switch (family)
    {
    case AF_INET: return "IPv4";
    case AF_INET6: return "IPv6";
    case AF_UNIX: return "Unix";
    default: return "unknown-family";
    }
}

static const char *
type_name (int type)
{
  return type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "datagram"
         : type == SOCK_SEQPACKET ? "seqpacket" : "other-type";
}

static gboolean
parse_count (const char *text, const char *name, gint64 max, gint64 *out, GError **error)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, (guint64) max, &value, NULL))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Socket activation: %s=\"%s\" is not a number from 1 to %" G_GINT64_FORMAT
                   "; unset it, or start the program as systemd would", name, text, max);
      return FALSE;
    }
  *out = (gint64) value;
  return TRUE;
}

int
ss_listen_fds (gboolean unset_environment, GError **error)
{
  const char *pid_text = g_getenv ("LISTEN_PID");
  const char *fds_text = g_getenv ("LISTEN_FDS");
  gint64 pid, n = 0;
  int result = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (pid_text == NULL || fds_text == NULL)
    goto out;
  if (!parse_count (pid_text, "LISTEN_PID", G_MAXINT32, &pid, error))
    {
      result = -1;
      goto out;
    }
  if (pid != (gint64) getpid ())
    goto out;   /* for another process: our parent's, inherited */
  if (!parse_count (fds_text, "LISTEN_FDS", 4096, &n, error))
    {
      result = -1;
      goto out;
    }
  for (int fd = SS_LISTEN_FDS_START; fd < SS_LISTEN_FDS_START + n; fd++)
    {
      int flags = fcntl (fd, F_GETFD);

      if (flags < 0)
        {
          g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                       "Socket activation: LISTEN_FDS=%" G_GINT64_FORMAT " but fd %d is not open "
                       "(%s); the program was started without the sockets it was promised",
                       n, fd, g_strerror (errno));
          result = -1;
          goto out;
        }
      /* Ours now: a program our handlers run must not inherit them. */
      fcntl (fd, F_SETFD, flags | FD_CLOEXEC);
    }
  result = (int) n;
out:
  if (unset_environment)
    {
      g_unsetenv ("LISTEN_PID");
      g_unsetenv ("LISTEN_FDS");
      g_unsetenv ("LISTEN_FDNAMES");
    }
  return result;
}

static gboolean
get_int_option (int fd, int option, int *value)
{
  socklen_t len = sizeof *value;

  return getsockopt (fd, SOL_SOCKET, option, value, &len) == 0;
}

gboolean
ss_server_adopt_socket (SsServer *server, int fd, GError **error)
{
  const SsServerClass *klass;
  SsAddress real = { .len = sizeof real.storage };
  gboolean want_unix;
  int family = -1, type = -1, listening = 0;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  klass = ss__server_resolved_class (server);
  want_unix = klass->address_family == AF_UNIX;
  if (server->socket_fd >= 0)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Cannot adopt fd %d: the server has a socket already (fd %d); create it with "
                   "bind_and_activate FALSE and adopt before server_bind", fd, server->socket_fd);
      return FALSE;
    }
  if (!get_int_option (fd, SO_DOMAIN, &family) || !get_int_option (fd, SO_TYPE, &type))
    {
      int errsv = errno;
      g_autofree char *what = g_strdup_printf ("Cannot adopt fd %d: it is not a socket", fd);

      ss_set_error_from_errno (error, errsv, what,
                               "Pass a bound socket (systemd: a .socket unit's ListenStream= or "
                               "ListenDatagram=)");
      return FALSE;
    }
  if ((want_unix ? family != AF_UNIX : family != AF_INET && family != AF_INET6)
      || type != klass->socket_type)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Cannot adopt fd %d: it is a %s socket of the %s family, and %s serves %s "
                   "sockets of the %s family; "
                   "fix the socket unit (ListenStream= for stream, ListenDatagram= for datagram) "
                   "or choose the matching transport",
                   fd, type_name (type), family_name (family),
                   klass->name != NULL ? klass->name : "this server",
                   type_name (klass->socket_type), want_unix ? "Unix" : "IPv4/IPv6");
      return FALSE;
    }
  if (type == SOCK_STREAM && (!get_int_option (fd, SO_ACCEPTCONN, &listening) || !listening))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Cannot adopt fd %d: the %s stream socket is not listening; pass a "
                   "listening socket (systemd does, with Accept=no)", fd, family_name (family));
      return FALSE;
    }
  if (getsockname (fd, (struct sockaddr *) &real.storage, &real.len) < 0
      || real.len > sizeof real.storage)
    {
      ss_set_error_from_errno (error, errno, "Cannot adopt an inherited socket: getsockname failed",
                               NULL);
      return FALSE;
    }
  if (!ss__set_nonblocking (fd, TRUE))
    {
      ss_set_error_from_errno (error, errno, "Cannot adopt an inherited socket: could not make it "
                               "non-blocking", NULL);
      return FALSE;
    }
  fcntl (fd, F_SETFD, fcntl (fd, F_GETFD) | FD_CLOEXEC);
  server->server_address = real;
  server->socket_fd = fd;
  server->priv->adopted = TRUE;
  return TRUE;
}

gboolean
ss_server_bind_or_adopt (SsServer *server, gboolean *adopted, GError **error)
{
  GError *local = NULL;
  int n;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (adopted != NULL)
    *adopted = FALSE;
  n = ss_listen_fds (TRUE, &local);
  if (n < 0)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (n == 0)
    return ss_server_server_bind (server, error) && ss_server_server_activate (server, error);
  if (n > 1)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT,
                   "Socket activation passed %d sockets (LISTEN_FDS=%d); this server serves one: "
                   "give its socket unit a single Listen line", n, n);
      return FALSE;
    }
  if (!ss_server_adopt_socket (server, SS_LISTEN_FDS_START, error))
    return FALSE;
  if (adopted != NULL)
    *adopted = TRUE;
  return TRUE;
}
