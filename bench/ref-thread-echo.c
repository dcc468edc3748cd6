/* ref-thread-echo.c: a keep-alive line echo with a thread per connection.
 *
 * What a hand-written blocking server does: accept in the main thread, a
 * detached thread per connection reading with recv and writing back with
 * send until EOF. The comparison for a blocking pool whose workers each
 * hold a connection.
 *
 * Usage: ref-thread-echo PORT. Prints "Serving on 127.0.0.1 port N" and
 * serves until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *
serve (void *data)
{
  int fd = (int) (intptr_t) data;
  char buf[16384];

  for (;;)
    {
      ssize_t got = recv (fd, buf, sizeof buf, 0);
      ssize_t sent = 0;

      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
      while (sent < got)
        {
          ssize_t n = send (fd, buf + sent, (size_t) (got - sent), MSG_NOSIGNAL);

          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            goto done;
          sent += n;
        }
    }
done:
  close (fd);
  return NULL;
}

int
main (int argc, char **argv)
{
  int one = 1;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (argc > 1 ? atoi (argv[1]) : 0) };
  socklen_t len = sizeof sin;
  pthread_attr_t attr;
  int lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (lfd, (struct sockaddr *) &sin, sizeof sin) < 0 || listen (lfd, SOMAXCONN) < 0
      || getsockname (lfd, (struct sockaddr *) &sin, &len) < 0)
    {
      perror ("ref-thread-echo: listen");
      return 1;
    }
  printf ("Serving on 127.0.0.1 port %d\n", ntohs (sin.sin_port));
  fflush (stdout);
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize (&attr, 256 * 1024);
  for (;;)
    {
      int fd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
      pthread_t t;

      if (fd < 0)
        continue;
      if (pthread_create (&t, &attr, serve, (void *) (intptr_t) fd) != 0)
        close (fd);
    }
}
