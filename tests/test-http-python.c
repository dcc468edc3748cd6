/* test-http-python.c: ss-http-server against `python3 -m http.server`,
 * byte for byte.
 *
 * Both serve the same folder (names to escape and sort, symlinks, an
 * index, files of many types); every request below goes to both, each on
 * a new HTTP/1.0 connection, and the answers must be the same bytes: the
 * status line, every header in order (but for Date and Server, which name
 * the time and the program, and Accept-Ranges, which only ss-http-server
 * sends), and the body -- error pages, listings, 301s, 304s and HTTP/0.9
 * answers included. Then the two logs must be the same lines but for
 * their timestamps. The cases where Python fails with a traceback (a NUL
 * in a path, a lone surrogate) are not asked: there ss-http-server
 * answers 404 (test-http-simple.c). Skipped without python3.
 */
#include "config.h"
#include "http-programs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib/gstdio.h>

static char *root;
static char *python;

static void
make_tree (void)
{
  static const char *const files[] = {
    "file.txt", "page.html", "data.json", "style.css", "app.js", "mod.mjs", "img.png", "pic.JPG",
    "photo.webp", "doc.pdf", "arch.tar.gz", "x.tgz", "y.svgz", "a.Z", "b.xz", "c.bz2", "d.br",
    "e.txt.gz", "f.wasm", "notes.md", "noext", "j.unknownext", ".hidden", "sp ace.txt",
    "<tag>&amp;.txt", "\377\376.bin", "\303\251t\303\251.txt", "Zebra", "apple", "Banana",
    "_under", "100%.txt", "q?.txt", "hash#.txt",
  };
  g_autofree char *sub = g_build_filename (root, "sub", NULL);
  g_autofree char *withindex = g_build_filename (root, "withindex", NULL);
  g_autofree char *link = g_build_filename (root, "link", NULL);
  g_autofree char *dirlink = g_build_filename (root, "dirlink", NULL);
  g_autofree char *broken = g_build_filename (root, "broken", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *contents = g_strdup_printf ("contents of %s\n", files[i]);

      http_write_file (root, files[i], contents, -1);
    }
  ck_assert_int_eq (g_mkdir (sub, 0755), 0);
  http_write_file (sub, "inner.txt", "inner\n", -1);
  ck_assert_int_eq (g_mkdir (withindex, 0755), 0);
  http_write_file (withindex, "index.html", "<p>the index</p>\n", -1);
  ck_assert_int_eq (symlink ("file.txt", link), 0);
  ck_assert_int_eq (symlink ("sub", dirlink), 0);
  ck_assert_int_eq (symlink ("nowhere", broken), 0);
}

/* The requests, as raw bytes. "%M" stands for file.txt's Last-Modified. */
static const char *const requests[] = {
  "GET / HTTP/1.0\r\n\r\n",
  "GET /sub HTTP/1.0\r\n\r\n",
  "GET /sub?q=1 HTTP/1.0\r\n\r\n",
  "GET /sub/ HTTP/1.0\r\n\r\n",
  "GET /sub/?x=%bb HTTP/1.0\r\n\r\n",
  "GET /dirlink/ HTTP/1.0\r\n\r\n",
  "GET /withindex/ HTTP/1.0\r\n\r\n",
  "GET /withindex HTTP/1.0\r\n\r\n",
  "GET /file.txt HTTP/1.0\r\n\r\n",
  "HEAD /file.txt HTTP/1.0\r\n\r\n",
  "GET /file.txt/ HTTP/1.0\r\n\r\n",
  "GET /link HTTP/1.0\r\n\r\n",
  "GET /broken HTTP/1.0\r\n\r\n",
  "GET /nope HTTP/1.0\r\n\r\n",
  "HEAD /nope HTTP/1.0\r\n\r\n",
  "GET /%ED%B3%BF%ED%B3%BE.bin HTTP/1.0\r\n\r\n",
  "GET /%C3%A9t%C3%A9.txt HTTP/1.0\r\n\r\n",
  "GET /\303\251t\303\251.txt HTTP/1.0\r\n\r\n",
  "GET /sp%20ace.txt HTTP/1.0\r\n\r\n",
  "GET /100%25.txt HTTP/1.0\r\n\r\n",
  "GET /q%3F.txt HTTP/1.0\r\n\r\n",
  "GET /hash%23.txt HTTP/1.0\r\n\r\n",
  "GET /%3Ctag%3E%26amp%3B.txt HTTP/1.0\r\n\r\n",
  "GET /../../../../etc/passwd HTTP/1.0\r\n\r\n",
  "GET /..%2f..%2f..%2fetc%2fpasswd HTTP/1.0\r\n\r\n",
  "GET //sub HTTP/1.0\r\n\r\n",
  "GET ///python.org/..%2f..%2f/sub HTTP/1.0\r\n\r\n",
  "GET http://example.com/sub HTTP/1.0\r\n\r\n",
  "GET sub HTTP/1.0\r\n\r\n",
  "GET /file.txt HTTP/1.0\r\nIf-Modified-Since: %M\r\n\r\n",
  "GET /file.txt HTTP/1.0\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
  "GET /file.txt HTTP/1.0\r\nIf-Modified-Since: %M\r\nIf-None-Match: *\r\n\r\n",
  "GET /file.txt HTTP/1.0\r\nIf-Modified-Since: not a date\r\n\r\n",
  "POST /file.txt HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
  "BREW / HTTP/1.0\r\n\r\n",
  "get / HTTP/1.0\r\n\r\n",
  "GET / FUBAR\r\n\r\n",
  "GET / HTTP/2.0\r\n\r\n",
  "GET / HTTP/1.1.1\r\n\r\n",
  "GET /spaced out HTTP/1.0\r\n\r\n",
  "GET /\r\n\r\n",
  "POST /\r\n\r\n",
  "GET\r\n\r\n",
  "<script>alert(1)</script> / HTTP/1.0\r\n\r\n",
  "GET /file.txt HTTP/1.0\r\nX-Folded: a\r\n b\r\nConnection: keep-alive\r\n\r\n",
  "GET /\344 HTTP/1.0\r\n\r\n",
  "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
};

/* The file types: each name above with an extension, asked for. */
static const char *const typed[] = {
  "page.html", "data.json", "style.css", "app.js", "mod.mjs", "img.png", "pic.JPG", "photo.webp",
  "doc.pdf", "arch.tar.gz", "x.tgz", "y.svgz", "a.Z", "b.xz", "c.bz2", "d.br", "e.txt.gz", "f.wasm",
  "notes.md", "noext", "j.unknownext", ".hidden",
};

/* Everything the server sent back on one connection. */
static GString *
ask (guint16 port, const char *request)
{
  int fd = http_connect (port);
  GString *got;

  test_send_all (fd, request, strlen (request));
  shutdown (fd, SHUT_WR);
  got = test_recv_all (fd, 16 * 1024 * 1024);
  close (fd);
  return got;
}

/* The answer without the headers that may differ: Date, Server, and
 * Accept-Ranges (ss-http-server's alone). */
static char *
comparable (const GString *answer)
{
  GString *out = g_string_new (NULL);
  const char *end = strstr (answer->str, "\r\n\r\n");
  g_auto (GStrv) lines = NULL;
  g_autofree char *head = NULL;

  if (!g_str_has_prefix (answer->str, "HTTP/") || end == NULL)
    {
      g_string_append_len (out, answer->str, (gssize) answer->len); /* HTTP/0.9: a body alone */
      return g_string_free (out, FALSE);
    }
  head = g_strndup (answer->str, (gsize) (end - answer->str));
  lines = g_strsplit (head, "\r\n", -1);
  for (char **l = lines; *l != NULL; l++)
    if (!g_str_has_prefix (*l, "Date: ") && !g_str_has_prefix (*l, "Server: ")
        && !g_str_has_prefix (*l, "Accept-Ranges: "))
      g_string_append_printf (out, "%s\r\n", *l);
  g_string_append (out, "\r\n");
  g_string_append_len (out, end + 4, (gssize) (answer->len - (gsize) (end + 4 - answer->str)));
  return g_string_free (out, FALSE);
}

static char *
fill_date (const char *request, const char *modified)
{
  g_autoptr (GString) s = g_string_new (request);
  const char *m;

  while ((m = strstr (s->str, "%M")) != NULL)
    {
      gsize at = (gsize) (m - s->str);

      g_string_erase (s, (gssize) at, 2);
      g_string_insert (s, (gssize) at, modified);
    }
  return g_strdup (s->str);
}

/* The log without timestamps: "HOST - - [DATE] rest" -> "HOST - - rest". */
static char *
untimed (const char *log)
{
  g_autoptr (GRegex) stamp = g_regex_new ("\\[\\d\\d/\\w{3}/\\d{4} \\d\\d:\\d\\d:\\d\\d\\] ", 0, 0, NULL);

  return g_regex_replace_literal (stamp, log, -1, 0, "", 0, NULL);
}

START_TEST (test_same_bytes_as_python)
{
  const char *py_args[] = { python, "-u", "-m", "http.server", "-b", "127.0.0.1", "-d", NULL, "0", NULL };
  const char *ss_args[] = { "-b", "127.0.0.1", "-d", NULL, "--strategy=threading", "0", NULL };
  g_autoptr (Proc) py = NULL;
  g_autoptr (Proc) ss = NULL;
  g_autofree char *stat_path = NULL;
  g_autofree char *py_log = NULL, *ss_log = NULL;
  char modified[SS_HTTP_DATE_LEN];
  GStatBuf st;
  guint asked = 0;

  root = http_make_tree ();
  make_tree ();
  py_args[7] = ss_args[3] = root;
  stat_path = g_build_filename (root, "file.txt", NULL);
  py = proc_spawn (py_args, NULL);
  proc_read_banner (py);
  ss = proc_start_server (ss_args, NULL);
  ck_assert_int_eq (g_stat (stat_path, &st), 0);
  ss_http_date_time_string ((gint64) st.st_mtime, modified);

  for (gsize i = 0; i < G_N_ELEMENTS (requests) + G_N_ELEMENTS (typed); i++)
    {
      g_autofree char *request = i < G_N_ELEMENTS (requests)
                                     ? fill_date (requests[i], modified)
                                     : g_strdup_printf ("HEAD /%s HTTP/1.0\r\n\r\n", typed[i - G_N_ELEMENTS (requests)]);
      g_autoptr (GString) from_py = ask (py->port, request);
      g_autoptr (GString) from_ss = ask (ss->port, request);
      g_autofree char *a = comparable (from_py);
      g_autofree char *b = comparable (from_ss);

      ck_assert_msg (strcmp (a, b) == 0, "request %s\n--- python:\n%s\n--- ss-http-server:\n%s", request, a, b);
      asked++;
    }
  /* Let both logs catch up, then compare them line for line. */
  proc_drain_err (py, 1.0);
  proc_drain_err (ss, 1.0);
  py_log = untimed (py->err->str);
  ss_log = untimed (ss->err->str);
  ck_assert_msg (strcmp (py_log, ss_log) == 0, "--- python log:\n%s\n--- ss-http-server log:\n%s", py_log, ss_log);
  ck_assert_uint_gt (asked, 60);
  proc_stop (ss, SIGTERM);
  http_remove_tree (root);
}
END_TEST

static Suite *
python_suite (void)
{
  Suite *s = suite_create ("http-python");
  TCase *tc = tcase_create ("parity");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_same_bytes_as_python);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  python = g_find_program_in_path ("python3");
  if (python == NULL)
    return test_skip_program ("python3 is not installed (quickstart.sh installs it)");
  return test_run_suite (python_suite ());
}
