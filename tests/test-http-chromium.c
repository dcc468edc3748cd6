/* test-http-chromium.c: headless Chromium, a real browser, against
 * ss-http-server.
 *
 * One browser start (they are slow): Chromium loads check.html from
 * ss-http-server, whose script fetches a directory listing (parsed by the
 * browser's own HTML parser: its title and links), a file, and a range of
 * that file (under another URL, so that the browser's cache cannot answer
 * it from the first), and writes what it got into the page; --dump-dom prints the
 * page, which the test reads. The server's log must show the browser's
 * requests. Bounded by a 120 s timeout. Skipped where Chromium is not
 * installed (quickstart.sh, and so .ci/run, installs Debian's chromium).
 */
#include "config.h"
#include "http-programs.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char check_html[] =
  "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>check</title></head>\n"
  "<body><pre id=\"out\">not run</pre>\n<script>\n"
  "function get(url, range) {\n"
  "  var x = new XMLHttpRequest();\n"
  "  x.open('GET', url, false);\n"
  "  if (range) x.setRequestHeader('Range', range);\n"
  "  x.send();\n"
  "  return x;\n"
  "}\n"
  "var l = get('/files/');\n"
  "var doc = new DOMParser().parseFromString(l.responseText, 'text/html');\n"
  "var hrefs = Array.from(doc.querySelectorAll('li a')).map(function (a) {\n"
  "  return a.getAttribute('href') + '=' + a.textContent; }).join(',');\n"
  "var f = get('/files/hello.txt');\n"
  "var r = get('/files/hello.txt?again', 'bytes=7-13');\n"
  "document.getElementById('out').textContent =\n"
  "  'LISTING ' + l.status + ' ' + l.getResponseHeader('Content-Type') + ' [' + doc.title + '] ' + hrefs + '\\n' +\n"
  "  'FILE ' + f.status + ' ' + f.getResponseHeader('Content-Type') + ' [' + f.responseText + ']\\n' +\n"
  "  'RANGE ' + r.status + ' ' + r.getResponseHeader('Content-Range') + ' [' + r.responseText + ']\\n';\n"
  "</script></body></html>\n";

START_TEST (test_browser)
{
  const char *chromium = g_getenv ("SS_TEST_CHROMIUM");
  g_autofree char *root = http_make_tree ();
  g_autofree char *files = g_build_filename (root, "files", NULL);
  g_autofree char *sub = g_build_filename (files, "sub", NULL);
  g_autofree char *profile = g_dir_make_tmp ("ss-chromium-XXXXXX", NULL);
  g_autofree char *profile_arg = g_strdup_printf ("--user-data-dir=%s", profile);
  const char *args[] = { "-b", "127.0.0.1", "-p", "HTTP/1.1", "-d", root, "0", NULL };
  g_autoptr (Proc) server = NULL;
  g_autofree char *url = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  int status;

  ck_assert_int_eq (g_mkdir (files, 0755), 0);
  ck_assert_int_eq (g_mkdir (sub, 0755), 0);
  http_write_file (root, "check.html", check_html, -1);
  http_write_file (files, "hello.txt", "hello, browser\n", -1);
  http_write_file (files, "a b&c.txt", "", 0);
  server = proc_start_server (args, NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u/check.html", server->port);
  {
    const char *argv[] = { chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                           profile_arg, "--dump-dom", url, NULL };

    status = proc_run (argv, 120, out, err);
  }
  http_remove_tree (profile);
  ck_assert_msg (status == 0, "chromium exited %d; stderr: %s", status, err->str);
  ck_assert_msg (strstr (out->str, "LISTING 200 text/html; charset=utf-8 [Directory listing for /files/] "
                                   "a%20b%26c.txt=a b&amp;c.txt,hello.txt=hello.txt,sub/=sub/\n") != NULL,
                 "page: %s", out->str);
  ck_assert_msg (strstr (out->str, "FILE 200 text/plain [hello, browser\n]\n") != NULL, "page: %s", out->str);
  ck_assert_msg (strstr (out->str, "RANGE 206 bytes 7-13/15 [browser]\n") != NULL, "page: %s", out->str);
  proc_drain_err (server, 0.5);
  ck_assert_ptr_nonnull (strstr (server->err->str, "\"GET /check.html HTTP/1.1\" 200 -"));
  ck_assert_ptr_nonnull (strstr (server->err->str, "\"GET /files/ HTTP/1.1\" 200 -"));
  ck_assert_ptr_nonnull (strstr (server->err->str, "\"GET /files/hello.txt HTTP/1.1\" 200 -"));
  ck_assert_ptr_nonnull (strstr (server->err->str, "\"GET /files/hello.txt?again HTTP/1.1\" 206 -"));
  proc_stop (server, SIGTERM);
  http_remove_tree (root);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("http-chromium");
  TCase *tc = tcase_create ("chromium");
  char *chromium = g_find_program_in_path ("chromium");

  if (chromium == NULL)
    chromium = g_find_program_in_path ("chromium-browser");
  if (chromium == NULL)
    return test_skip_program ("chromium is not installed (apt-get install chromium; quickstart.sh installs it)");
  g_setenv ("SS_TEST_CHROMIUM", chromium, TRUE);
  g_free (chromium);
  tcase_set_timeout (tc, 180);
  tcase_add_test (tc, test_browser);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
