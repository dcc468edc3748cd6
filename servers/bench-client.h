/* bench-client.h: the load generator of ss-bench (the post's 100 clients).
 *
 * A few threads, each an epoll loop driving its share of the concurrent
 * clients: connect (non-blocking), read to EOF, count a reply only when
 * exactly packet_size bytes arrived, close, repeat. The 2008 post used a
 * process per client; an epoll loop costs far less CPU, so on a small
 * machine the server, not the client, is what gets measured.
 */
#pragma once

#include <glib.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct {
  const char *host;        /* numeric IPv4 or IPv6 address, e.g. "127.0.0.1" */
  guint16 port;
  guint n_clients;         /* concurrent connections (peak, when ramping) */
  gsize packet_size;       /* bytes a correct reply has */
  double duration;         /* seconds the load runs */
  guint n_threads;         /* epoll loops; 0 = 2 */
  gboolean ramp;           /* clients go 0 -> n_clients -> 0 linearly over duration */
  FILE *progress;          /* where `rate=` lines go every 10,000 replies; NULL = none */
  /* Called about every 20 ms from a sampler thread while the load runs
   * (the peak-workers and --trace-pool sampling); may be NULL. */
  void (*sample) (double t, gpointer user_data);
  gpointer sample_data;
} BenchClientConfig;

typedef struct {
  guint64 replies;          /* complete replies */
  guint64 connect_errors;   /* refused, unreachable, out of ports */
  guint64 reset_errors;     /* reset or other read error */
  guint64 short_replies;    /* EOF before (or data beyond) packet_size bytes */
  guint64 errors;           /* the sum of the three above */
  double elapsed;           /* seconds actually run */
  double rate;              /* replies / elapsed */
  double p50_ms, p99_ms, max_ms; /* connect-to-EOF latency of complete replies */
} BenchClientResult;

/* Runs the load and fills @result. Fails (FALSE, @error) only when the
 * load cannot start at all (bad host, no epoll); connection failures are
 * counted, not fatal. */
gboolean bench_client_run (const BenchClientConfig *config, BenchClientResult *result,
                           GError **error);

/* Threads of process @pid plus its live child processes (counting the
 * children's threads), from /proc; 0 when @pid is gone. The "peak threads
 * or processes of the server" of an external server. */
guint bench_count_process_tree (pid_t pid);

/* The child processes of @pid (of any of its threads), not their threads. */
guint bench_count_children (pid_t pid);

/* TcpExt ListenOverflows of this network namespace (/proc/net/netstat):
 * SYNs or handshakes dropped because a listen queue was full. System-wide,
 * so take the difference around a run. */
guint64 bench_listen_overflows (void);
