/* child.c: a child of the process pool, from fork to _exit.
 *
 * The child waits in its own epoll set holding the shared listening socket
 * with EPOLLEXCLUSIVE and its control socket without: the kernel wakes one
 * waiting child per connection (no thundering herd, no accept lock, no
 * hand-off through the parent), while a word from the parent or its death
 * (the control socket reads EOF) wakes this child alone. While requests
 * are short only one child per two CPUs holds a place there, and keeps it while
 * it serves (the accept cap, below). It takes each connection through
 * ss_server_handle_pending, so get_request,
 * verify_request, process_request and finish_request all run here with the
 * server class's hooks, exactly as in a forking strategy's child, and marks
 * itself idle or busy in its scoreboard slot with one atomic store each:
 * no syscall, and the parent reads the whole board when it wants to.
 *
 * It leaves after max_requests connections, when the parent asks (retire,
 * stop: a connection taken already is finished first), on SIGINT (below),
 * or when the parent is gone, and always through _exit: the parent's atexit handlers and
 * stdio buffers are not the child's to run or flush.
 */
#include "strategies/preforking/prefork.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { EV_LISTEN = 1, EV_CONTROL = 2, EV_BELL = 4, EV_INTERRUPTED = 8 };

#define ACCEPT_BATCH 16

typedef struct {
  int sock_ep;       /* the listening socket (exclusive) and the control socket */
  int bell_ep;       /* the doorbell (exclusive) and the control socket; -1: no cap */
  int listen_fd;     /* for poll() when there is no epoll set at all */
  int control_fd;
} Waiter;

static void
set_state (SsPreforkSlot *entry, SsPreforkSlotState state)
{
  __atomic_store_n (&entry->state, state, __ATOMIC_RELEASE);
}

/* What only the parent uses: the other children's control sockets, the
 * maintenance thread's epoll set and its stop fd. */
static void
close_parent_fds (SsPreforkingStrategy *self)
{
  for (guint slot = 0; slot < self->n_slots; slot++)
    if (self->children[slot].fd >= 0)
      {
        close (self->children[slot].fd);
        self->children[slot].fd = -1;
      }
  if (self->epfd >= 0)
    close (self->epfd);
  self->epfd = -1;
  ss__wake_fd_close (&self->stop);
}

/* Ctrl-C in a terminal sends SIGINT to the whole process group, children
 * included, while the parent handles its own SIGINT by stopping the pool
 * gently: a child left with SIGINT's default action would die in the middle
 * of its request. So a child whose program left SIGINT at its default
 * finishes the request and leaves, as when the parent asks; a second
 * SIGINT ends it at once, as the parent's second one ends the parent.
 * SIGTERM keeps its default: it is how a child is stopped by force. The
 * handler is caught, so exec resets it for a program the handler runs. */
static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  if (interrupted)
    {
      signal (sig, SIG_DFL);
      raise (sig);
      return;
    }
  interrupted = 1;
}

static void
catch_sigint (void)
{
  struct sigaction old;
  struct sigaction sa = { .sa_handler = on_sigint, .sa_flags = SA_RESTART };

  sigemptyset (&sa.sa_mask);
  if (sigaction (SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
    sigaction (SIGINT, &sa, NULL);
}

/* An epoll set holding @fd (exclusively) and the control socket. */
static int
epoll_pair (int fd, int control_fd)
{
  struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 0 };
  int ep = epoll_create1 (EPOLL_CLOEXEC);

  if (ep < 0)
    return -1;
  ev.data.u32 = fd == control_fd ? EV_CONTROL : 0;
  if (epoll_ctl (ep, EPOLL_CTL_ADD, fd, &ev) == 0)
    {
      ev = (struct epoll_event) { .events = EPOLLIN, .data.u32 = EV_CONTROL };
      if (epoll_ctl (ep, EPOLL_CTL_ADD, control_fd, &ev) == 0)
        return ep;
    }
  close (ep);
  return -1;
}

static void
open_waiter (SsPreforkingStrategy *self, Waiter *w, int listen_fd, int control_fd)
{
  w->listen_fd = listen_fd;
  w->control_fd = control_fd;
  w->sock_ep = epoll_pair (listen_fd, control_fd);
  w->bell_ep = w->sock_ep >= 0 ? epoll_pair (self->doorbell, control_fd) : -1;
}

/* Blocks on @ep; returns what woke it (EV_CONTROL wins a tie: the parent
 * first), 0 when interrupted. @ready says what the set's first fd means. */
static int
wait_on (int ep, int ready)
{
  struct epoll_event ev[2];
  int n = epoll_wait (ep, ev, G_N_ELEMENTS (ev), -1);
  int got = 0;

  for (int i = 0; i < n; i++)
    got |= ev[i].data.u32 == EV_CONTROL ? EV_CONTROL : ready;
  return (got & EV_CONTROL) ? EV_CONTROL : got;
}

/* No epoll set at all (out of fds): every waiting child wakes for each
 * connection and all but one find nothing. Slower, still correct. */
static int
wait_poll (Waiter *w)
{
  struct pollfd pfd[2] = {
    { .fd = w->listen_fd, .events = POLLIN },
    { .fd = w->control_fd, .events = POLLIN },
  };

  if (poll (pfd, 2, -1) <= 0)
    return 0;
  return pfd[1].revents ? EV_CONTROL : pfd[0].revents ? EV_LISTEN : 0;
}

/* A child's place, kept in its slot (so the parent can mend the shared
 * counts when a child dies in either place) and counted in on_socket /
 * standby. */
static void
take_place (SsPreforkingStrategy *self, SsPreforkSlot *entry, gint *count, gint role)
{
  __atomic_store_n (&entry->role, role, __ATOMIC_SEQ_CST);
  __atomic_add_fetch (count, 1, __ATOMIC_SEQ_CST);
}

static gint
leave_place (SsPreforkingStrategy *self, SsPreforkSlot *entry, gint *count)
{
  gint left = ss__prefork_count_down (count);

  __atomic_store_n (&entry->role, SS_PREFORK_ROLE_NONE, __ATOMIC_SEQ_CST);
  return left;
}

/* Rings a standby child to the socket when no child holds a place there
 * any more: called whenever this child gives its place up (to stand by,
 * or for good). */
static void
pass_on (SsPreforkingStrategy *self, gint on_socket_left)
{
  if (on_socket_left == 0 && __atomic_load_n (&self->shared->standby, __ATOMIC_SEQ_CST) > 0)
    ss__prefork_ring (self->doorbell, 1);
}

/* Gives up the place on the socket, if this child holds one; returns
 * whether it did. */
static gboolean
leave_socket (SsPreforkingStrategy *self, SsPreforkSlot *entry)
{
  if (__atomic_load_n (&entry->role, __ATOMIC_SEQ_CST) != SS_PREFORK_ROLE_SOCKET)
    return FALSE;
  pass_on (self, leave_place (self, entry, &self->shared->on_socket));
  return TRUE;
}

/* Places on the socket allowed now: the cap, plus what the sentinel lent. */
static gint
places (const SsPreforkShared *sh)
{
  return sh->accept_cap + __atomic_load_n (&sh->lent, __ATOMIC_SEQ_CST);
}

/* The accept cap. While requests are short, at most accept_cap children
 * (one per two CPUs) hold a place on the listening socket; the other idle ones
 * wait on the doorbell. A child keeps its place while it runs what it
 * took and looks at the socket again before it sleeps, as a sync server
 * or an epoll server does: a burst of connections wakes at most accept_cap
 * processes, each taking what the backlog holds, instead of one sleeping
 * process per connection while a busy one would be free microseconds later
 * (a process switch costs several times a thread switch here). When the
 * place holders block (a slow client, a handler waiting for a database),
 * the parent's sentinel lends their places to standby children
 * (sentinel.c), so the backlog does not wait behind them; when requests
 * turn long on average, every idle child waits on the socket.
 *
 * EPOLLEXCLUSIVE wakes one waiter per connection and only once: a child
 * that was woken must take the connection or see that another does. So a
 * child that gives its place up leaving none rings the doorbell (pass_on),
 * so some child waits there whenever one is idle, and a child coming from
 * the doorbell looks at the socket before it sleeps on it. (A place holder
 * back from a request needs no look: its level-triggered set reports the
 * socket again while it stays readable.) The checks are ordered
 * (sequentially consistent) so that either the leaving child sees the
 * standby one or the standby one sees the free place. Returns EV_LISTEN
 * (with the place held), EV_CONTROL or EV_INTERRUPTED (SIGINT, see
 * catch_sigint; both without it). */
static int
wait_for_connection (SsPreforkingStrategy *self, SsPreforkSlot *entry, Waiter *w)
{
  SsPreforkShared *sh = self->shared;
  gboolean from_standby = FALSE;

  for (;;)
    {
      gboolean capped;
      int turn;

      if (interrupted)
        {
          (void) leave_socket (self, entry);
          return EV_INTERRUPTED;
        }
      if (w->sock_ep < 0)
        {
          if ((turn = wait_poll (w)) != 0)
            return turn;
          continue;
        }
      capped = w->bell_ep >= 0 && ss__prefork_capped (sh);

      if (__atomic_load_n (&entry->role, __ATOMIC_SEQ_CST) != SS_PREFORK_ROLE_SOCKET)
        take_place (self, entry, &sh->on_socket, SS_PREFORK_ROLE_SOCKET);
      if (!capped || __atomic_load_n (&sh->on_socket, __ATOMIC_SEQ_CST) <= places (sh))
        {
          if (from_standby && ss__prefork_listen_ready (w->listen_fd))
            turn = EV_LISTEN;
          else
            turn = wait_on (w->sock_ep, EV_LISTEN);
          from_standby = FALSE;
          if (turn == EV_CONTROL)
            (void) leave_socket (self, entry);
          if (turn != 0)
            return turn;
          continue;
        }

      /* One place too many: stand by. */
      pass_on (self, leave_place (self, entry, &sh->on_socket));
      take_place (self, entry, &sh->standby, SS_PREFORK_ROLE_STANDBY);
      if (__atomic_load_n (&sh->on_socket, __ATOMIC_SEQ_CST) < places (sh))
        turn = EV_BELL;   /* a place came free meanwhile: take it */
      else
        turn = wait_on (w->bell_ep, EV_BELL);
      leave_place (self, entry, &sh->standby);
      if (turn == EV_CONTROL)
        return turn;
      if (turn == EV_BELL)
        {
          guint64 token;

          (void) !read (self->doorbell, &token, sizeof token);   /* EAGAIN: another took it */
          from_standby = TRUE;
        }
    }
}

/* Folds one request's duration into the pool's average. Children update
 * it without a lock: a lost update only delays the average a little. When
 * requests turn long, the standby children are rung to the socket. */
static void
note_duration (SsPreforkingStrategy *self, gint64 us)
{
  SsPreforkShared *sh = self->shared;
  gint64 avg = __atomic_load_n (&sh->request_us_avg, __ATOMIC_RELAXED);
  gint64 next = avg + (us - avg) / 8;
  gint standby;

  __atomic_store_n (&sh->request_us_avg, next, __ATOMIC_RELAXED);
  if (avg < SS_PREFORK_SHORT_REQUEST_US && next >= SS_PREFORK_SHORT_REQUEST_US
      && (standby = __atomic_load_n (&sh->standby, __ATOMIC_SEQ_CST)) > 0)
    ss__prefork_ring (self->doorbell, (guint64) standby);
}

/* The parent asked us to leave (a byte: SS_PREFORK_RETIRE or
 * SS_PREFORK_STOP), or is gone (EOF: 0). */
static char
why_leave (int control_fd)
{
  char byte = 0;
  ssize_t n;

  do
    n = recv (control_fd, &byte, 1, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n == 1 ? byte : 0;
}

/* Out of fds: the core paused accepting and the socket stays readable, so
 * wait the pause out (or a word from the parent) instead of spinning. */
static void
wait_out_pause (SsServer *server, int control_fd)
{
  double paused = ss__server_accept_paused_for (server);
  struct pollfd pfd = { .fd = control_fd, .events = POLLIN };

  if (paused > 0)
    (void) poll (&pfd, 1, (int) (paused * 1000) + 1);
}

/* Connections to take per wake-up: while the backlog holds more, the child
 * goes on without sleeping, as an epoll server accepts until EAGAIN. */
static guint
batch_for (SsPreforkingStrategy *self, guint64 taken)
{
  if (self->max_requests == 0)
    return ACCEPT_BATCH;
  return (guint) MIN ((guint64) ACCEPT_BATCH, self->max_requests - taken);
}

/* The parent asked this child to leave (it says so on the board before it
 * writes on the control socket, which is read later), or SIGINT came. */
static gboolean
told_to_leave (const SsPreforkSlot *entry)
{
  return interrupted || __atomic_load_n (&entry->told, __ATOMIC_ACQUIRE) != 0;
}

/* Up to @max connections, one at a time, looking at the board after each:
 * a child told to stop while it served one takes no other (a drain shuts
 * the listening socket down then, and an accept on it would fail). */
static guint
take_batch (SsServer *server, SsPreforkSlot *entry, guint max)
{
  guint n = 0;

  while (n < max && ss_server_handle_pending (server, 1) == 1)
    {
      n++;
      /* Only this child writes it; the sentinel reads it. */
      __atomic_store_n (&entry->taken, entry->taken + 1, __ATOMIC_RELAXED);
      if (told_to_leave (entry))
        break;
    }
  return n;
}

void
ss__prefork_child_main (SsPreforkingStrategy *self, guint slot, int control_fd)
{
  SsServer *server = self->server;
  SsPreforkSlot *entry = &self->board[slot];
  SsPreforkLeft left = SS_PREFORK_LEFT_TOLD;
  guint64 taken = 0;
  Waiter w;

  /* First, to keep short the window in which a Ctrl-C to the process
   * group ends a child that is still starting (the parent takes that end
   * quietly: spawn.c, describe_exit). */
  catch_sigint ();
  /* Our copy of the strategy: from here on it describes this child. */
  self->in_child = TRUE;
  self->my_slot = slot;
  /* Our own wake fd and fresh locks: a shutdown here must not wake the
   * parent's loop through the eventfd we share with it. */
  ss__server_in_forked_child (server);
  close_parent_fds (self);
  if (self->child_init != NULL)
    self->child_init (server, self->hook_data);

  open_waiter (self, &w, ss_server_fileno (server), control_fd);
  for (;;)
    {
      gint64 start;
      guint n;
      int turn;

      set_state (entry, SS_PREFORK_SLOT_IDLE);
      turn = wait_for_connection (self, entry, &w);
      if (turn == EV_CONTROL)
        {
          char why = why_leave (control_fd);

          left = why == 0 ? SS_PREFORK_LEFT_ORPHANED : SS_PREFORK_LEFT_TOLD;
          /* Retired while a connection may have woken us alone: take what
           * is pending first, or it would wait for the next connection. */
          if (why == SS_PREFORK_RETIRE)
            {
              set_state (entry, SS_PREFORK_SLOT_BUSY);
              ss_server_handle_pending (server, batch_for (self, taken));
            }
          break;
        }
      if (turn == EV_INTERRUPTED)
        break;

      set_state (entry, SS_PREFORK_SLOT_BUSY);
      start = g_get_monotonic_time ();
      n = take_batch (server, entry, batch_for (self, taken));
      if (n > 0)
        note_duration (self, (g_get_monotonic_time () - start) / n);
      else
        wait_out_pause (server, control_fd);
      taken += n;
      if (self->max_requests > 0 && taken >= self->max_requests)
        {
          left = SS_PREFORK_LEFT_RECYCLED;
          break;
        }
    }

  __atomic_store_n (&entry->left, left, __ATOMIC_RELAXED);
  set_state (entry, SS_PREFORK_SLOT_EXITING);
  /* We wait on the socket no more: a connection queued for us alone (see
   * wait_for_connection) must reach a standby child. */
  if (!leave_socket (self, entry))
    pass_on (self, __atomic_load_n (&self->shared->on_socket, __ATOMIC_SEQ_CST));
  if (self->child_exit != NULL)
    self->child_exit (server, self->hook_data);
  _exit (0);
}

void
ss__prefork_child_run (SsPreforkingStrategy *self, SsServer *server, SsRequest *request)
{
  /* Read by the parent only once this child is dead: the crash report. */
  self->board[self->my_slot].client = request->client_address;
  ss_server_run_request (server, request);
}
