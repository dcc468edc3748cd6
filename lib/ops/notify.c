/* notify.c: sd_notify(3) -- telling a service manager how the server is.
 *
 * When NOTIFY_SOCKET is set (systemd's Type=notify, or a restarting
 * ss-echo waiting for its successor, restart.c), a state line such as
 * "READY=1" or "STOPPING=1" is sent as one datagram to that Unix socket
 * (a path, or an abstract name written with a leading '@'). Without
 * NOTIFY_SOCKET it does nothing and succeeds, as sd_notify does.
 *
 * Why not libsystemd's sd_notify: the protocol is this one sendto(), and
 * libsystemd would be a dependency of every build (and a second code path
 * that the CI could not test both ways) for it; the file-descriptor
 * passing and credentials that libsystemd adds are not used here.
 *
 * Across a restart the service manager must follow the service from one
 * process to the next (systemd's NotifyAccess=main listens to the main
 * process only, and a main process that exits or says STOPPING=1 ends the
 * service). So a process started by ss_server_restart gets two sockets:
 * NOTIFY_SOCKET, its predecessor's private one, for its READY=1 (the
 * handshake), and SS_MANAGER_NOTIFY_SOCKET, the manager's (empty when
 * there is none), for everything it says after that. The predecessor,
 * once its successor is ready, tells the manager MAINPID=<successor> and
 * from then on says nothing (ss__notify_hand_over): its STOPPING=1 as it
 * drains would be about a process the manager no longer watches.
 */
#include "ops/ops-private.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static gint said_ready;   /* (atomic) a READY=1 has gone out */
static gint handed_over;  /* (atomic) the successor speaks for the service */

const char *
ss__notify_manager_socket (void)
{
  const char *manager = g_getenv (SS_MANAGER_NOTIFY_SOCKET);

  return manager != NULL ? manager : g_getenv ("NOTIFY_SOCKET");
}

void
ss__notify_hand_over (void)
{
  g_atomic_int_set (&handed_over, 1);
}

/* Where @state goes now; NULL: nowhere. */
static const char *
target (void)
{
  if (g_atomic_int_get (&handed_over))
    return NULL;
  if (g_getenv (SS_MANAGER_NOTIFY_SOCKET) != NULL && g_atomic_int_get (&said_ready))
    return ss__notify_manager_socket ();
  return g_getenv ("NOTIFY_SOCKET");
}

static gboolean
says_ready (const char *state)
{
  g_auto (GStrv) lines = g_strsplit (state, "\n", -1);

  for (char **l = lines; *l != NULL; l++)
    if (g_str_equal (*l, "READY=1"))
      return TRUE;
  return FALSE;
}

gboolean
ss_notify (const char *state, GError **error)
{
  const char *path;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  socklen_t len;
  gsize path_len;
  ssize_t sent;
  int fd, errsv;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  path = target ();
  if (says_ready (state))
    g_atomic_int_set (&said_ready, 1);
  if (path == NULL || path[0] == '\0')
    return TRUE;
  path_len = strlen (path);
  if ((path[0] != '/' && path[0] != '@') || path_len >= sizeof sun.sun_path)
    {
      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "NOTIFY_SOCKET=\"%s\" is neither an absolute path nor an abstract name "
                   "(@name) of at most %zu bytes; unset it or fix the service manager's setting",
                   path, sizeof sun.sun_path - 1);
      return FALSE;
    }
  memcpy (sun.sun_path, path, path_len);
  if (path[0] == '@')
    sun.sun_path[0] = '\0';
  len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + path_len);

  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      ss_set_error_from_errno (error, errno, "Could not create a socket to notify the service "
                               "manager", "Raise the limit on open files (ulimit -n).");
      return FALSE;
    }
  do
    sent = sendto (fd, state, strlen (state), MSG_NOSIGNAL, (struct sockaddr *) &sun, len);
  while (sent < 0 && errno == EINTR);
  errsv = errno;
  close (fd);
  if (sent < 0)
    {
      g_autofree char *what = g_strdup_printf ("Could not notify the service manager at %s (\"%s\")",
                                               path, state);

      ss_set_error_from_errno (error, errsv, what,
                               "Is the service manager still running? Unset NOTIFY_SOCKET to run "
                               "without one");
      return FALSE;
    }
  return TRUE;
}
