/* bench-client.c: the load generator behind ss-bench and bench/run.sh.
 *
 * The 2008 post ran 100 client processes, each looping connect, read to
 * EOF, close. Here a few threads (2 by default) each run an epoll loop over
 * their share of the connections, so a 2-core machine spends its time in
 * the server. The client never writes: a connection is registered for
 * EPOLLIN as soon as connect() starts, and a failed connect shows up as an
 * error from recv(), so one event type covers the whole life of a client.
 *
 * A reply counts only when exactly packet_size bytes arrived before EOF;
 * its latency (connect to EOF) goes into a per-thread array that is merged
 * and sorted at the end (a few MB for a long run, and exact percentiles).
 * Connections that fail are retried after 10 ms, so a dead server makes
 * the loop count errors instead of spinning.
 *
 * Ramping (the --trace-pool picture): client slot i is active while
 * i < n_clients * (1 - |2t/duration - 1|), so the load climbs from 0 to
 * n_clients at half time and back to 0.
 */
#include "config.h"
#include "bench-client.h"

#include <errno.h>
#include <dirent.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RETRY_DELAY_US   10000  /* after a failed connection */
#define PROGRESS_EVERY   10000  /* replies between `rate=` lines, as in the post */
#define SAMPLE_PERIOD_US 20000
#define MAX_EVENTS       256
#define RECV_CHUNK       65536

typedef struct {
  int fd;               /* -1 while idle */
  guint index;          /* global slot number: decides when it is active in a ramp */
  gsize received;
  gint64 started_us;    /* when connect() was called */
  gint64 retry_at_us;   /* idle slots: not before this */
} Slot;

typedef struct Shared Shared;

typedef struct {
  Shared *shared;
  guint id;
  int epfd;
  Slot *slots;
  guint n_slots;
  GArray *latencies_us; /* guint32 per complete reply */
  guint64 replies, connect_errors, reset_errors, short_replies;
  GThread *thread;
} Worker;

struct Shared {
  const BenchClientConfig *config;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  gint64 start_us, deadline_us;
  guint64 total_replies;         /* atomic: drives the progress lines */
  pthread_mutex_t progress_lock; /* guards the two fields below */
  gint64 progress_mark_us;
  guint64 progress_mark_replies;
  gint stop_sampler;             /* atomic */
};

/* How many clients should be connected at @now. */
static guint
target_clients (Shared *sh, gint64 now)
{
  const BenchClientConfig *c = sh->config;
  if (!c->ramp)
    return c->n_clients;
  double span = (double) (sh->deadline_us - sh->start_us);
  double x = span > 0 ? (double) (now - sh->start_us) / span : 1.0;
  double level = 1.0 - fabs (2.0 * x - 1.0);
  if (level < 0)
    level = 0;
  return (guint) (level * c->n_clients + 0.5);
}

static void
progress_tick (Shared *sh, guint64 total)
{
  if (sh->config->progress == NULL || total % PROGRESS_EVERY != 0)
    return;
  /* Only one thread crosses each multiple; the lock orders the marks. */
  pthread_mutex_lock (&sh->progress_lock);
  gint64 now = g_get_monotonic_time ();
  double dt = (now - sh->progress_mark_us) / 1e6;
  guint64 dn = total - sh->progress_mark_replies;
  if (dt > 0 && total > sh->progress_mark_replies)
    {
      fprintf (sh->config->progress, "rate=%.0f replies/s (%" G_GUINT64_FORMAT " replies, %.1f s)\n",
               dn / dt, total, (now - sh->start_us) / 1e6);
      fflush (sh->config->progress);
      sh->progress_mark_us = now;
      sh->progress_mark_replies = total;
    }
  pthread_mutex_unlock (&sh->progress_lock);
}

static void
slot_start (Worker *w, Slot *slot, gint64 now)
{
  Shared *sh = w->shared;
  int fd = socket (sh->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto failed;
  if (connect (fd, (struct sockaddr *) &sh->addr, sh->addr_len) < 0 && errno != EINPROGRESS)
    goto failed;
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = slot };
  if (epoll_ctl (w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    goto failed;
  slot->fd = fd;
  slot->received = 0;
  slot->started_us = now;
  return;

failed:
  if (fd >= 0)
    close (fd);
  w->connect_errors++;
  slot->fd = -1;
  slot->retry_at_us = now + RETRY_DELAY_US;
}

static gboolean
slot_active (Worker *w, Slot *slot, gint64 now)
{
  return now < w->shared->deadline_us && slot->index < target_clients (w->shared, now);
}

/* The connection of @slot ended (EOF or error): count it, close it and
 * start the next one at once when the slot is still wanted. */
static void
slot_finish (Worker *w, Slot *slot, int errsv, gint64 now)
{
  Shared *sh = w->shared;
  gboolean ok = FALSE;

  close (slot->fd); /* also removes it from the epoll set */
  slot->fd = -1;
  if (errsv == ECONNREFUSED || errsv == ETIMEDOUT || errsv == EHOSTUNREACH || errsv == ENETUNREACH)
    w->connect_errors++;
  else if (errsv != 0)
    w->reset_errors++;
  else if (slot->received != sh->config->packet_size)
    w->short_replies++;
  else
    {
      guint32 us = (guint32) MIN (now - slot->started_us, (gint64) G_MAXUINT32);
      g_array_append_val (w->latencies_us, us);
      w->replies++;
      ok = TRUE;
      progress_tick (sh, __atomic_add_fetch (&sh->total_replies, 1, __ATOMIC_RELAXED));
    }

  if (ok && slot_active (w, slot, now))
    slot_start (w, slot, now);
  else
    slot->retry_at_us = ok ? now : now + RETRY_DELAY_US;
}

static void
slot_readable (Worker *w, Slot *slot, char *buf)
{
  for (;;)
    {
      ssize_t n = recv (slot->fd, buf, RECV_CHUNK, 0);
      if (n > 0)
        {
          slot->received += (gsize) n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      slot_finish (w, slot, n == 0 ? 0 : errno, g_get_monotonic_time ());
      return;
    }
}

/* Starts idle slots that the load (or the ramp) wants now. */
static void
start_idle_slots (Worker *w, gint64 now)
{
  for (guint i = 0; i < w->n_slots; i++)
    {
      Slot *slot = &w->slots[i];
      if (slot->fd < 0 && now >= slot->retry_at_us && slot_active (w, slot, now))
        slot_start (w, slot, now);
    }
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  Shared *sh = w->shared;
  struct epoll_event events[MAX_EVENTS];
  char *buf = g_malloc (RECV_CHUNK);
  gint64 now = g_get_monotonic_time ();
  gint64 next_check = now;

  while (now < sh->deadline_us)
    {
      if (now >= next_check)
        {
          start_idle_slots (w, now);
          next_check = now + 2000;
        }
      int n = epoll_wait (w->epfd, events, MAX_EVENTS, 2);
      for (int i = 0; i < n; i++)
        slot_readable (w, events[i].data.ptr, buf);
      now = g_get_monotonic_time ();
    }

  for (guint i = 0; i < w->n_slots; i++)
    if (w->slots[i].fd >= 0)
      {
        close (w->slots[i].fd);
        w->slots[i].fd = -1;
      }
  g_free (buf);
  return NULL;
}

static gpointer
sampler_main (gpointer data)
{
  Shared *sh = data;
  while (!__atomic_load_n (&sh->stop_sampler, __ATOMIC_ACQUIRE))
    {
      gint64 now = g_get_monotonic_time ();
      sh->config->sample ((now - sh->start_us) / 1e6, sh->config->sample_data);
      g_usleep (SAMPLE_PERIOD_US);
    }
  return NULL;
}

static gboolean
parse_host (Shared *sh, const char *host, guint16 port, GError **error)
{
  struct sockaddr_in *in4 = (struct sockaddr_in *) &sh->addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sh->addr;

  memset (&sh->addr, 0, sizeof sh->addr);
  if (inet_pton (AF_INET, host, &in4->sin_addr) == 1)
    {
      in4->sin_family = AF_INET;
      in4->sin_port = htons (port);
      sh->addr_len = sizeof *in4;
      return TRUE;
    }
  if (inet_pton (AF_INET6, host, &in6->sin6_addr) == 1)
    {
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (port);
      sh->addr_len = sizeof *in6;
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "client: \"%s\" is not a numeric IPv4 or IPv6 address; use e.g. 127.0.0.1", host);
  return FALSE;
}

static int
compare_u32 (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static void
collect_results (Worker *workers, guint n_workers, Shared *sh, BenchClientResult *r)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (guint32));

  memset (r, 0, sizeof *r);
  for (guint i = 0; i < n_workers; i++)
    {
      Worker *w = &workers[i];
      r->replies += w->replies;
      r->connect_errors += w->connect_errors;
      r->reset_errors += w->reset_errors;
      r->short_replies += w->short_replies;
      g_array_append_vals (all, w->latencies_us->data, w->latencies_us->len);
    }
  r->errors = r->connect_errors + r->reset_errors + r->short_replies;
  r->elapsed = (g_get_monotonic_time () - sh->start_us) / 1e6;
  r->rate = r->elapsed > 0 ? r->replies / r->elapsed : 0;
  if (all->len > 0)
    {
      guint32 *v = (guint32 *) all->data;
      qsort (v, all->len, sizeof *v, compare_u32);
      r->p50_ms = v[(all->len - 1) / 2] / 1000.0;
      gsize i99 = (gsize) ceil (0.99 * all->len);
      r->p99_ms = v[MAX (i99, 1) - 1] / 1000.0;
      r->max_ms = v[all->len - 1] / 1000.0;
    }
  g_array_free (all, TRUE);
}

gboolean
bench_client_run (const BenchClientConfig *config, BenchClientResult *result, GError **error)
{
  Shared sh = { .config = config };
  guint n_threads = config->n_threads ? config->n_threads : 2;
  if (!config->ramp)
    n_threads = MAX (1u, MIN (n_threads, config->n_clients));
  GThread *sampler = NULL;

  if (!parse_host (&sh, config->host, config->port, error))
    return FALSE;
  pthread_mutex_init (&sh.progress_lock, NULL);
  sh.start_us = sh.progress_mark_us = g_get_monotonic_time ();
  sh.deadline_us = sh.start_us + (gint64) (config->duration * 1e6);

  Worker *workers = g_new0 (Worker, n_threads);
  for (guint t = 0; t < n_threads; t++)
    {
      Worker *w = &workers[t];
      w->shared = &sh;
      w->id = t;
      w->epfd = epoll_create1 (EPOLL_CLOEXEC);
      w->latencies_us = g_array_new (FALSE, FALSE, sizeof (guint32));
      /* Interleaved, so both loops share the clients of a ramp evenly. */
      w->n_slots = config->n_clients / n_threads + (t < config->n_clients % n_threads);
      w->slots = g_new0 (Slot, MAX (w->n_slots, 1u));
      for (guint i = 0; i < w->n_slots; i++)
        {
          w->slots[i].fd = -1;
          w->slots[i].index = t + i * n_threads;
        }
    }
  for (guint t = 0; t < n_threads; t++)
    workers[t].thread = g_thread_new ("bench-client", worker_main, &workers[t]);
  if (config->sample != NULL)
    sampler = g_thread_new ("bench-sampler", sampler_main, &sh);

  for (guint t = 0; t < n_threads; t++)
    g_thread_join (workers[t].thread);
  collect_results (workers, n_threads, &sh, result);
  if (sampler != NULL)
    {
      __atomic_store_n (&sh.stop_sampler, 1, __ATOMIC_RELEASE);
      g_thread_join (sampler);
    }

  for (guint t = 0; t < n_threads; t++)
    {
      close (workers[t].epfd);
      g_array_free (workers[t].latencies_us, TRUE);
      g_free (workers[t].slots);
    }
  g_free (workers);
  pthread_mutex_destroy (&sh.progress_lock);
  return TRUE;
}

/* Threads of one process, from /proc/PID/status. */
static guint
count_threads (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *line = strstr (text, "\nThreads:");
  return line ? (guint) strtoul (line + 9, NULL, 10) : 0;
}

/* Calls @each for every child pid of every thread of @pid (a fork from
 * any thread is listed under that thread). */
static void
each_child (pid_t pid, void (*each) (pid_t child, gpointer data), gpointer data)
{
  g_autofree char *task_dir = g_strdup_printf ("/proc/%d/task", (int) pid);
  DIR *dir = opendir (task_dir);
  if (dir == NULL)
    return;
  struct dirent *de;
  while ((de = readdir (dir)) != NULL)
    {
      if (de->d_name[0] == '.')
        continue;
      g_autofree char *path = g_strdup_printf ("%s/%s/children", task_dir, de->d_name);
      g_autofree char *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      g_auto (GStrv) pids = g_strsplit (g_strstrip (text), " ", -1);
      for (guint i = 0; pids[i] != NULL; i++)
        if (pids[i][0] != '\0')
          each ((pid_t) atoi (pids[i]), data);
    }
  closedir (dir);
}

static void
add_threads (pid_t child, gpointer data)
{
  *(guint *) data += count_threads (child);
}

static void
add_one (pid_t child, gpointer data)
{
  (void) child;
  *(guint *) data += 1;
}

guint
bench_count_process_tree (pid_t pid)
{
  guint total = count_threads (pid);
  if (total == 0)
    return 0;
  each_child (pid, add_threads, &total);
  return total;
}

guint
bench_count_children (pid_t pid)
{
  guint total = 0;
  each_child (pid, add_one, &total);
  return total;
}

guint64
bench_listen_overflows (void)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/net/netstat", &text, NULL, NULL))
    return 0;
  /* "TcpExt: name name ...\nTcpExt: value value ...": find the column. */
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      if (!g_str_has_prefix (lines[i], "TcpExt:") || !g_str_has_prefix (lines[i + 1], "TcpExt:"))
        continue;
      g_auto (GStrv) names = g_strsplit (lines[i], " ", -1);
      g_auto (GStrv) values = g_strsplit (lines[i + 1], " ", -1);
      for (guint k = 0; names[k] != NULL && values[k] != NULL; k++)
        if (strcmp (names[k], "ListenOverflows") == 0)
          return g_ascii_strtoull (values[k], NULL, 10);
    }
  return 0;
}
