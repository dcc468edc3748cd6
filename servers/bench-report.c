/* bench-report.c: what a run under load prints on stdout -- one summary
 * line per run (and a rest line for the pools), and with --server=all the
 * comparison table, the README's demo. bench/run.sh, bench/perf-reply.sh
 * and tests/test-programs.c read these lines.
 */
#include "config.h"
#include "ss-bench.h"

void
bench_print_summary (const Options *o, const RunResult *r)
{
  const BenchClientResult *c = &r->client;
  g_autofree char *server_errors = r->server_errors == G_MAXUINT64
    ? g_strdup ("n/a") : g_strdup_printf ("%" G_GUINT64_FORMAT, r->server_errors);

  printf ("summary: server=%s clients=%d%s duration=%.1fs replies=%" G_GUINT64_FORMAT
          " replies/s=%.0f p50=%.2fms p99=%.2fms max=%.2fms errors=%" G_GUINT64_FORMAT
          " (connect %" G_GUINT64_FORMAT ", reset %" G_GUINT64_FORMAT ", short %" G_GUINT64_FORMAT ")"
          " peak_%s=%u listen_overflows=%" G_GUINT64_FORMAT " server_errors=%s\n",
          r->name, o->n_clients, o->ramp ? "(ramp)" : "", c->elapsed, c->replies, c->rate,
          c->p50_ms, c->p99_ms, c->max_ms, c->errors, c->connect_errors, c->reset_errors,
          c->short_replies, r->peak_what, r->peak, r->listen_overflows, server_errors);
  if (r->has_rest && r->rest_after >= 0)
    printf ("rest: server=%s workers=%u (<= min %d + min_spare %d) %.2fs after the load stopped\n",
            r->name, r->rest_workers, o->min_workers, o->min_spare_workers, r->rest_after);
  else if (r->has_rest)
    printf ("rest: server=%s workers=%u still above min %d + min_spare %d %.0fs after the load stopped\n",
            r->name, r->rest_workers, o->min_workers, o->min_spare_workers, REST_WAIT);
  fflush (stdout);
}

void
bench_print_table (const RunResult *results, guint n, const Options *o, double duration)
{
  double threading = 0;
  for (guint i = 0; i < n; i++)
    if (g_str_equal (results[i].name, "threading"))
      threading = results[i].client.rate;

  printf ("\n%d clients, %d-byte replies, %.0f s per server, 127.0.0.1:\n\n", o->n_clients,
          o->packet_size, duration);
  printf ("%-14s %10s %11s %8s %8s %8s %7s %16s\n", "server", "replies/s", "x threading",
          "p50 ms", "p99 ms", "max ms", "errors", "peak workers");
  for (guint i = 0; i < n; i++)
    {
      const RunResult *r = &results[i];
      g_autofree char *ratio = threading > 0 ? g_strdup_printf ("%.2f", r->client.rate / threading)
                                             : g_strdup ("-");
      g_autofree char *peak = g_strdup_printf ("%u %s", r->peak, r->peak_what);
      printf ("%-14s %10.0f %11s %8.2f %8.2f %8.2f %7" G_GUINT64_FORMAT " %16s\n", r->name,
              r->client.rate, ratio, r->client.p50_ms, r->client.p99_ms, r->client.max_ms,
              r->client.errors, peak);
    }
  fflush (stdout);
}
