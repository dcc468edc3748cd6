/* test-http-curl.c: curl, a real client, against ss-http-server.
 *
 * Keep-alive (two URLs on one connection: curl's num_connects says 1 then
 * 0), HEAD, byte ranges, If-Modified-Since through curl's own -z, a 1 MiB
 * download checked byte for byte, and a listing. Skipped where curl is
 * not installed (quickstart.sh, and so .ci/run, installs it).
 */
#include "config.h"
#include "http-programs.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static char *curl;
static char *root;
static char *big;       /* 1 MiB + 3 bytes of pattern */
static gsize big_len;
static Proc *server;
static char *base;      /* "http://127.0.0.1:PORT" */

static void
setup (void)
{
  const char *args[] = { "-b", "127.0.0.1", "-p", "HTTP/1.1", "-d", NULL, "0", NULL };
  GString *data = g_string_sized_new (1 << 20);

  root = http_make_tree ();
  for (guint i = 0; data->len < (1 << 20) + 3; i++)
    g_string_append_printf (data, "%08x", i * 2654435761u);
  g_string_truncate (data, (1 << 20) + 3);
  big_len = data->len;
  big = g_string_free (data, FALSE);
  http_write_file (root, "big.bin", big, (gssize) big_len);
  http_write_file (root, "small.txt", "small file\n", -1);
  args[5] = root;
  server = proc_start_server (args, NULL);
  base = g_strdup_printf ("http://127.0.0.1:%u", server->port);
}

static void
teardown (void)
{
  proc_stop (server, SIGTERM);
  proc_free (server);
  http_remove_tree (root);
  g_free (root);
  g_free (big);
  g_free (base);
}

/* Runs curl with @args (a NULL-terminated list after the program name);
 * returns its stdout, asserting exit status 0. */
static GString *
run_curl (const char *const *args)
{
  const char *argv[24] = { curl, "--silent", "--show-error", "--max-time", "30" };
  GString *out = g_string_new (NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  int n = 5, status;

  for (; *args != NULL && n < 23; args++)
    argv[n++] = *args;
  status = proc_run (argv, 60, out, err);
  ck_assert_msg (status == 0, "curl exited %d: %s", status, err->str);
  return out;
}

START_TEST (test_keep_alive)
{
  g_autofree char *url = g_strdup_printf ("%s/small.txt", base);
  g_autofree char *url2 = g_strdup_printf ("%s/big.bin", base);
  g_autofree char *out1 = g_build_filename (root, "out1", NULL);
  g_autofree char *out2 = g_build_filename (root, "out2", NULL);
  /* -w is one for all the transfers of a command line. */
  const char *args[] = { "-w", "%{num_connects}\n", "-o", out1, url, "-o", out2, url2, NULL };
  g_autoptr (GString) out = run_curl (args);
  g_autofree char *got1 = NULL, *got2 = NULL;
  gsize len2;

  /* The second transfer reused the first one's connection. */
  ck_assert_str_eq (out->str, "1\n0\n");
  ck_assert (g_file_get_contents (out1, &got1, NULL, NULL));
  ck_assert_str_eq (got1, "small file\n");
  ck_assert (g_file_get_contents (out2, &got2, &len2, NULL));
  ck_assert_uint_eq (len2, big_len);
  ck_assert (memcmp (got2, big, big_len) == 0);
}
END_TEST

START_TEST (test_head)
{
  g_autofree char *url = g_strdup_printf ("%s/big.bin", base);
  const char *args[] = { "--head", url, NULL };
  g_autoptr (GString) out = run_curl (args);
  g_autofree char *length = g_strdup_printf ("Content-Length: %" G_GSIZE_FORMAT "\r\n", big_len);

  ck_assert (g_str_has_prefix (out->str, "HTTP/1.1 200 OK\r\n"));
  ck_assert_ptr_nonnull (strstr (out->str, length));
  ck_assert_ptr_nonnull (strstr (out->str, "Accept-Ranges: bytes\r\n"));
  ck_assert (g_str_has_suffix (out->str, "\r\n\r\n")); /* no body */
}
END_TEST

START_TEST (test_ranges)
{
  g_autofree char *url = g_strdup_printf ("%s/big.bin", base);
  const char *middle[] = { "-r", "1000-1999", "-w", "|%{http_code}", url, NULL };
  const char *suffix[] = { "-r", "-50", "-w", "|%{http_code}", url, NULL };
  const char *beyond[] = { "-r", "2000000-", "-o", "/dev/null", "-w", "%{http_code}", url, NULL };
  g_autoptr (GString) a = run_curl (middle);
  g_autoptr (GString) b = run_curl (suffix);
  g_autoptr (GString) c = run_curl (beyond);

  ck_assert_uint_eq (a->len, 1000 + 4);
  ck_assert (memcmp (a->str, big + 1000, 1000) == 0);
  ck_assert_str_eq (a->str + 1000, "|206");
  ck_assert_uint_eq (b->len, 50 + 4);
  ck_assert (memcmp (b->str, big + big_len - 50, 50) == 0);
  ck_assert_str_eq (c->str, "416");
}
END_TEST

START_TEST (test_not_modified)
{
  g_autofree char *url = g_strdup_printf ("%s/small.txt", base);
  g_autofree char *path = g_build_filename (root, "small.txt", NULL);
  /* curl -z FILE sends the file's mtime as If-Modified-Since. */
  const char *same[] = { "-z", path, "-w", "%{http_code}", url, NULL };
  const char *older[] = { "-z", "Sun, 06 Nov 1994 08:49:37 GMT", "-w", "|%{http_code}", url, NULL };
  g_autoptr (GString) a = run_curl (same);
  g_autoptr (GString) b = run_curl (older);

  ck_assert_str_eq (a->str, "304");
  ck_assert_str_eq (b->str, "small file\n|200");
}
END_TEST

START_TEST (test_listing)
{
  g_autofree char *url = g_strdup_printf ("%s/", base);
  const char *args[] = { url, NULL };
  g_autoptr (GString) out = run_curl (args);

  ck_assert (g_str_has_prefix (out->str, "<!DOCTYPE HTML>\n<html lang=\"en\">\n"));
  ck_assert_ptr_nonnull (strstr (out->str, "<li><a href=\"big.bin\">big.bin</a></li>\n"
                                           "<li><a href=\"small.txt\">small.txt</a></li>\n"));
}
END_TEST

static Suite *
curl_suite (void)
{
  Suite *s = suite_create ("http-curl");
  TCase *tc = tcase_create ("curl");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_keep_alive);
  tcase_add_test (tc, test_head);
  tcase_add_test (tc, test_ranges);
  tcase_add_test (tc, test_not_modified);
  tcase_add_test (tc, test_listing);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  curl = g_find_program_in_path ("curl");
  if (curl == NULL)
    return test_skip_program ("curl is not installed (apt-get install curl; quickstart.sh installs it)");
  return test_run_suite (curl_suite ());
}
