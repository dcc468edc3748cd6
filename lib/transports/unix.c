/* unix.c: UnixStreamServer and UnixDatagramServer.
 *
 * As in Python these are TCPServer and UDPServer with AF_UNIX: everything
 * but server_bind and server_close is inherited. Those two add what a
 * socket file on disk needs and Python leaves to the program:
 *
 * - bind refuses a path that exists and is not a socket, and never deletes
 *   anything there: a typo must not cost someone a file. A stale socket
 *   file is not removed either (bind fails "address already in use", as
 *   in Python), since we cannot tell it from a live server's.
 * - the file's device and inode are recorded at bind, and server_close
 *   removes the path only if it is still that file, and only in the
 *   process that bound it (a forked child closing its copy must not pull
 *   the file from under the parent). Anything else -- a newer server's
 *   socket, a file someone put there -- is left alone.
 * - unix_socket_mode, when set, is the file's mode from its first moment:
 *   bind(2) creates the file with the socket's own mode less the umask, so
 *   the socket is created here and given the mode (fchmod) before the
 *   parent's bind binds it. A chmod after bind, as before, left a window in
 *   which a UnixDatagramServer took datagrams -- processed later, once
 *   serving -- from anyone the umask's mode let in. When the umask took
 *   bits away, the file is widened to the mode afterwards (safe: whoever
 *   the narrower mode admits, the wanted one admits too), through an
 *   O_PATH|O_NOFOLLOW fd checked to be our socket: never through a symlink
 *   someone swapped in.
 * - server_close removes the file before closing the socket: once closed,
 *   another server could take the path (it looks stale) and its new file
 *   be removed in ours' place.
 */
#include "transports/transport-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* What server_close needs to remove only the file this server created. */
typedef struct {
  gboolean path_created;  /* we created the socket file */
  dev_t dev;              /* its identity, so server_close never */
  ino_t ino;              /*   unlinks a stranger's file */
  pid_t owner_pid;        /* a forked child must not unlink it */
} UnixState;

static UnixState *
unix_state (SsServer *self)
{
  return ss__server_transport_state (self, sizeof (UnixState));
}

static const char *
unix_path (SsServer *self)
{
  return ((const struct sockaddr_un *) &self->server_address.storage)->sun_path;
}

/* Refuses a path that exists and is not a socket (it is left untouched). */
static gboolean
check_path_free (SsServer *self, GError **error)
{
  struct stat st;

  if (lstat (unix_path (self), &st) == 0 && !S_ISSOCK (st.st_mode))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_ADDRESS_IN_USE,
                   "Could not bind to %s: it exists and is not a socket; it was left "
                   "untouched (choose another path, or remove the file yourself)",
                   unix_path (self));
      return FALSE;
    }
  return TRUE;
}

static gboolean
mode_error (SsServer *self, int errsv, const char *hint, GError **error)
{
  g_autofree char *what = g_strdup_printf ("Could not set mode %04o on the socket %s",
                                           self->unix_socket_mode, unix_path (self));

  ss_set_error_from_errno (error, errsv, what, hint);
  return FALSE;
}

/* With unix_socket_mode: the socket, created here rather than by the
 * parent's bind, gets the mode before it is bound (the file inherits it). */
static gboolean
create_socket_with_mode (SsServer *self, GError **error)
{
  if (self->unix_socket_mode == 0 || self->socket_fd >= 0)
    return TRUE;
  self->socket_fd = socket (AF_UNIX, ss__server_resolved_class (self)->socket_type
                                         | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (self->socket_fd < 0)
    {
      int errsv = errno;
      g_autofree char *what = g_strdup_printf ("Could not create a socket for %s", unix_path (self));

      ss_set_error_from_errno (error, errsv, what, NULL);
      return FALSE;
    }
  if (fchmod (self->socket_fd, (mode_t) self->unix_socket_mode) < 0)
    return mode_error (self, errno, NULL, error);
  return TRUE;
}

/* Records the file bind made; *@st is what lstat found there. */
static gboolean
record_socket_file (SsServer *self, struct stat *st, GError **error)
{
  UnixState *state = unix_state (self);

  if (lstat (unix_path (self), st) < 0)
    {
      int errsv = errno;
      g_autofree char *what = g_strdup_printf ("Could not find the socket file %s after bind",
                                               unix_path (self));

      ss_set_error_from_errno (error, errsv, what, NULL);
      return FALSE;
    }
  if (!S_ISSOCK (st->st_mode))
    {
      g_set_error (error, SS_ERROR, SS_ERROR_FAILED,
                   "Could not bind to %s: the socket file was replaced by something else "
                   "right after bind; it was left as it is (is someone else writing to "
                   "that folder? Use a folder only this program may write to)",
                   unix_path (self));
      return FALSE;
    }
  state->path_created = TRUE;
  state->dev = st->st_dev;
  state->ino = st->st_ino;
  state->owner_pid = getpid ();
  return TRUE;
}

/* The file has at most the wanted bits (@st from record_socket_file); where
 * the umask took some away, gives them back, on our socket file only. */
static gboolean
widen_mode (SsServer *self, const struct stat *st, GError **error)
{
  UnixState *state = unix_state (self);
  g_autofree char *proc_path = NULL;
  struct stat now;
  int fd, errsv = 0;

  if (self->unix_socket_mode == 0 || (st->st_mode & 07777) == self->unix_socket_mode)
    return TRUE;
  fd = open (unix_path (self), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mode_error (self, errno, NULL, error);
  if (fstat (fd, &now) < 0 || !S_ISSOCK (now.st_mode) || now.st_dev != state->dev
      || now.st_ino != state->ino)
    {
      close (fd);
      return mode_error (self, EEXIST, "The socket file was replaced right after bind; it was "
                                       "left as it is. Use a folder only this program may write to.",
                         error);
    }
  /* chmod cannot take an O_PATH fd, but its /proc name reaches the inode
   * itself, not a path that could be swapped again. */
  proc_path = g_strdup_printf ("/proc/self/fd/%d", fd);
  if (chmod (proc_path, (mode_t) self->unix_socket_mode) < 0)
    errsv = errno;
  close (fd);
  if (errsv != 0)
    return mode_error (self, errsv, errsv == ENOENT ? "/proc is not mounted" : NULL, error);
  return TRUE;
}

/* @parent is the transport class this one extends (TCP or UDP): its bind
 * creates and binds the socket, as super().server_bind() would. */
static gboolean
unix_server_bind (SsServer *self, const SsServerClass *parent, GError **error)
{
  struct stat st;

  if (ss_address_family (&self->server_address) != AF_UNIX)
    {
      g_autofree char *addr = ss_address_to_string (&self->server_address);

      g_set_error (error, SS_ERROR, SS_ERROR_INVALID_ADDRESS,
                   "Could not bind to %s: a Unix socket server needs a file path", addr);
      return FALSE;
    }
  if (!check_path_free (self, error) || !create_socket_with_mode (self, error))
    return FALSE;
  if (!parent->server_bind (self, error))
    return FALSE;
  /* From here on the file is ours: record it first so that a failing
   * chmod still has it removed by server_close. */
  return record_socket_file (self, &st, error) && widen_mode (self, &st, error);
}

/* Removes the socket file if it is still the one this process created. */
static void
remove_socket_file (SsServer *self)
{
  UnixState *state = unix_state (self);
  struct stat st;

  if (!state->path_created)
    return;
  if (state->owner_pid != getpid ())
    return; /* a forked child: the file belongs to the parent */
  state->path_created = FALSE;
  if (lstat (unix_path (self), &st) == 0 && S_ISSOCK (st.st_mode)
      && st.st_dev == state->dev && st.st_ino == state->ino)
    {
      if (unlink (unix_path (self)) < 0 && errno != ENOENT)
        SS_WARNING ("Could not remove the socket file %s: %s", unix_path (self), g_strerror (errno));
    }
}

static void
unix_server_close (SsServer *self, const SsServerClass *parent)
{
  /* The file first, while the socket still holds the path (see the top). */
  remove_socket_file (self);
  parent->server_close (self);
}

static gboolean
unix_stream_server_bind (SsServer *self, GError **error)
{
  return unix_server_bind (self, &ss_tcp_server_class, error);
}

static void
unix_stream_server_close (SsServer *self)
{
  unix_server_close (self, &ss_tcp_server_class);
}

static gboolean
unix_datagram_server_bind (SsServer *self, GError **error)
{
  return unix_server_bind (self, &ss_udp_server_class, error);
}

static void
unix_datagram_server_close (SsServer *self)
{
  unix_server_close (self, &ss_udp_server_class);
}

const SsServerClass ss_unix_stream_server_class = {
  .name = "UnixStreamServer",
  .parent = &ss_tcp_server_class,
  .instance_size = sizeof (SsServer),
  .address_family = AF_UNIX,
  .socket_type = SOCK_STREAM,
  .server_bind = unix_stream_server_bind,
  .server_activate = ss__tcp_server_server_activate,   /* TCPServer's, and so on */
  .get_request = ss__tcp_server_get_request,
  .shutdown_request = ss__tcp_server_shutdown_request,
  .close_request = ss__tcp_server_close_request,
  .server_close = unix_stream_server_close,
  .fileno = ss__tcp_server_fileno,
  SS__BASE_SERVER_BEHAVIOUR_SLOTS,
};

const SsServerClass ss_unix_datagram_server_class = {
  .name = "UnixDatagramServer",
  .parent = &ss_udp_server_class,
  .instance_size = sizeof (SsServer),
  .address_family = AF_UNIX,
  .socket_type = SOCK_DGRAM,
  .server_bind = unix_datagram_server_bind,
  .server_activate = ss__udp_server_server_activate,   /* UDPServer's, and so on */
  .get_request = ss__udp_server_get_request,
  .shutdown_request = ss__udp_server_shutdown_request,
  .close_request = ss__udp_server_close_request,
  .server_close = unix_datagram_server_close,
  .fileno = ss__tcp_server_fileno,
  SS__BASE_SERVER_BEHAVIOUR_SLOTS,
};

SsServer *
ss_unix_stream_server_new (const char *path, const SsHandlerClass *handler_class,
                           SsStrategy *strategy, GError **error)
{
  return ss_server_new (&ss_unix_stream_server_class, path, handler_class, strategy, TRUE, error);
}

SsServer *
ss_unix_datagram_server_new (const char *path, const SsHandlerClass *handler_class,
                             SsStrategy *strategy, GError **error)
{
  return ss_server_new (&ss_unix_datagram_server_class, path, handler_class, strategy, TRUE, error);
}
