/* fd.c: the small fd helpers every layer shares.
 *
 * The wake fd is the one primitive the serve loop and the thread pool both
 * build on: a flag that poll()/epoll can wait for next to a socket, so that
 * a thread blocked on its socket can also be told to stop or to look at a
 * queue. An eventfd is one fd and one syscall each way; where there is none
 * a non-blocking pipe does the same (setting writes a byte, clearing reads
 * until empty).
 */
#include "io/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef HAVE_SYS_EVENTFD_H
#include <sys/eventfd.h>
#endif

double
ss__now (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

gboolean
ss__task_asleep (pid_t pid, pid_t tid)
{
  char path[64], buf[512];
  const char *state;
  ssize_t n;
  int fd;

  if (tid > 0)
    g_snprintf (path, sizeof path, "/proc/self/task/%d/stat", (int) tid);
  else
    g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return TRUE;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return TRUE;
  buf[n] = '\0';
  /* "pid (comm) S ...": the state follows the last ')'. */
  state = strrchr (buf, ')');
  if (state == NULL || state[1] != ' ')
    return TRUE;
  return state[2] != 'R';
}

gboolean
ss__set_nonblocking (int fd, gboolean nonblocking)
{
  int flags = fcntl (fd, F_GETFL);

  if (flags < 0)
    return FALSE;
  flags = nonblocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  return fcntl (fd, F_SETFL, flags) == 0;
}

double
ss__socket_timeout (int fd, int option)
{
  struct timeval tv = { 0, 0 };
  socklen_t len = sizeof tv;

  if (getsockopt (fd, SOL_SOCKET, option, &tv, &len) != 0)
    return 0;
  return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

gboolean
ss__wake_fd_open (SsWakeFd *wake, const char *what, GError **error)
{
  int fds[2];

#ifdef HAVE_EVENTFD
  int fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);

  if (fd >= 0)
    {
      wake->read_fd = wake->write_fd = fd;
      return TRUE;
    }
#endif
  if (pipe2 (fds, O_CLOEXEC | O_NONBLOCK) == 0)
    {
      wake->read_fd = fds[0];
      wake->write_fd = fds[1];
      return TRUE;
    }
  ss_set_error_from_errno (error, errno, what, "Raise the limit on open files (ulimit -n).");
  return FALSE;
}

void
ss__wake_fd_set (const SsWakeFd *wake)
{
  uint64_t one = 1;
  ssize_t n;

  do
    n = write (wake->write_fd, &one, wake->read_fd == wake->write_fd ? sizeof one : 1);
  while (n < 0 && errno == EINTR);
  /* EAGAIN: already readable (a full pipe, a saturated counter), which is
   * all a wake-up needs. */
}

void
ss__wake_fd_clear (const SsWakeFd *wake)
{
  uint64_t buf[8];
  ssize_t n;

  /* An eventfd read returns the whole count at once; a pipe is read until
   * empty. */
  do
    n = read (wake->read_fd, buf, sizeof buf);
  while ((n < 0 && errno == EINTR) || (n > 0 && wake->read_fd != wake->write_fd));
}

void
ss__wake_fd_close (SsWakeFd *wake)
{
  if (wake->read_fd >= 0)
    close (wake->read_fd);
  if (wake->write_fd >= 0 && wake->write_fd != wake->read_fd)
    close (wake->write_fd);
  wake->read_fd = wake->write_fd = -1;
}
