/* ss-bench.h: what the files of ss-bench share.
 *
 *   ss-bench.c       the benchmark's server (the post's handler) and main:
 *                    serve only, or run the load
 *   bench-options.c  the command line: options, defaults, usage checks
 *   bench-load.c     the runs under load: a server per strategy, the
 *                    clients against it, the pool's rest afterwards
 *   bench-sample.c   sampling the server while it runs: its peak workers
 *                    and the --trace-pool file
 *   bench-report.c   the summary line and the --server=all table
 *   bench-client.c   the load generator itself (bench-client.h)
 */
#pragma once

#include <stdio.h>
#include <sys/types.h>

#include <socketserver/socketserver.h>
#include "bench-client.h"

#define DEFAULT_DURATION     10.0
#define REST_WAIT  3.0  /* seconds to watch the pool shrink after the load */

typedef struct {
  char *server;
  int n_clients;
  int port;
  int packet_size;
  double duration;     /* < 0: not given */
  int min_workers, max_workers, min_spare_workers;
  int max_children;      /* forking: Python's max_children (40) */
  char *trace_pool;
  char *connect;
  int server_pid;
  gboolean ramp;
  int client_threads;
  double handler_delay_ms;
  gboolean tls;
  char *tls_cert;
  char *tls_key;
  double drain_timeout;  /* serve only: SIGINT/SIGTERM drain, at most this long */
} Options;

/* What a strategy run produced: the client's result plus the server's side. */
typedef struct {
  const char *name;
  BenchClientResult client;
  guint peak;            /* server threads, or processes for forking */
  const char *peak_what; /* "threads" or "processes" */
  guint64 listen_overflows;
  guint64 server_errors;
  /* threadpooling: workers once the load stopped and how long they took
   * to get down to min_workers + min_spare_workers (< 0: not within
   * REST_WAIT seconds). */
  gboolean has_rest;
  guint rest_workers;
  double rest_after;
} RunResult;

/* The reply the handler sends (the server's user_data). */
typedef struct {
  guint8 *data;
  gsize size;
  gulong delay_us;  /* --handler-delay: simulated wait before the reply */
} Packet;

/* What bench_sample looks at and where it writes (its user_data). */
typedef struct {
  const Options *o;
  SsServer *server;       /* in-process server, or NULL */
  pid_t pid;              /* a server process to count, or 0 */
  guint own_threads;      /* threads of this process that are not the server's */
  guint peak;
  FILE *trace;
  double duration;
} Sampler;

/* bench-options.c */
/* Fills @o from the command line, defaults first; FALSE with @error on a
 * usage error. @o is bench_options_clear's to free either way. */
gboolean bench_options_parse (int argc, char **argv, Options *o, GError **error);
void bench_options_clear (Options *o);
/* The strategy --server=@name names, with the pool limits of @o. */
SsStrategy *bench_strategy_new (const Options *o, const char *name, GError **error);

/* ss-bench.c */
SsServer *bench_server_new (const Options *o, const char *name, Packet *packet, GError **error);

/* bench-sample.c */
/* One sample at @t seconds (BenchClientConfig.sample; @data: a Sampler). */
void bench_sample (double t, gpointer data);
/* The --trace-pool file with its header lines; NULL without the option. */
FILE *bench_open_trace (const Options *o, GError **error);

/* bench-load.c */
gboolean bench_run_connect (const Options *o, double duration, FILE *trace, RunResult *result,
                            GError **error);
/* Runs the load against --server (every strategy for "all"), prints the
 * summaries (and the table); returns the exit status. */
int bench_run_load (const Options *o, Packet *packet, FILE *trace);

/* bench-report.c */
void bench_print_summary (const Options *o, const RunResult *r);
void bench_print_table (const RunResult *results, guint n, const Options *o, double duration);
