/* fuzz-readline.c: libFuzzer target for the rfile reader.
 *
 * The input is split into a script and a payload: byte 0 picks the buffer
 * size of a socket reader, byte 1 the number of script bytes that follow,
 * and each script byte is one call (readline with one of several limits,
 * read, read1 or read_all with a size). The payload is what the "client"
 * sends. The script runs twice: over a memory reader (a datagram's rfile)
 * and over a socket reader fed through a Unix stream socketpair, so the
 * refill and direct-recv paths run too. After the script the rest is read
 * to EOF.
 *
 * Invariants, abort() on violation:
 * - readline never appends more than its limit, appends exactly what it
 *   returns, and the appended bytes hold a '\n' only as their last byte;
 *   a readline that stops short of its limit without a '\n' is at EOF;
 * - read(n) returns n bytes unless at EOF, read1(n) at most n;
 * - everything returned, concatenated, equals the payload.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <socketserver/socketserver.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const gssize limits[] = { -1, 0, 1, 2, 3, 7, 16, 64, 100, 4096, 65536 };
static const gsize bufsizes[] = { 0, 1, 2, 3, 5, 8, 16, 64, 1024, 8192 };
static const gsize sizes[] = { 0, 1, 2, 5, 9, 16, 33, 100, 1000, 8192, 70000 };

#define CHECK(cond) do { if (!(cond)) abort (); } while (0)

typedef enum {
  STEP_MORE,   /* carry on with the script */
  STEP_EOF,    /* the reader is at EOF: check what was seen */
  STEP_LOST,   /* read_all went over its max and consumed an unknown amount */
} StepResult;

/* Runs one script step; appends what it read to @seen. */
static StepResult
step (SsRFile *rfile, guint8 op, GString *seen)
{
  guint kind = op % 4;
  guint arg = op / 4;
  GError *error = NULL;
  gssize got;

  if (kind == 0)
    {
      gssize limit = limits[arg % G_N_ELEMENTS (limits)];
      GString *line = g_string_new ("pre");

      got = ss_rfile_readline (rfile, line, limit, &error);
      CHECK (got >= 0 && error == NULL);
      CHECK ((gsize) got == line->len - 3);
      CHECK (limit < 0 || got <= limit);
      if (got > 0)
        {
          const char *nl = memchr (line->str + 3, '\n', (gsize) got);

          CHECK (nl == NULL || nl == line->str + line->len - 1);
          if (nl == NULL && (limit < 0 || got < limit))
            {
              char c;

              CHECK (ss_rfile_read1 (rfile, &c, 1, NULL) == 0); /* at EOF */
            }
        }
      g_string_append_len (seen, line->str + 3, got);
      g_string_free (line, TRUE);
      return got > 0 || limit == 0 ? STEP_MORE : STEP_EOF;
    }
  else if (kind == 1 || kind == 2)
    {
      gsize n = sizes[arg % G_N_ELEMENTS (sizes)];
      guint8 *buf = g_malloc (n + 1);

      got = kind == 1 ? ss_rfile_read (rfile, buf, n, &error)
                      : ss_rfile_read1 (rfile, buf, n, &error);
      CHECK (got >= 0 && error == NULL && (gsize) got <= n);
      g_string_append_len (seen, (const char *) buf, got);
      if (kind == 1 && (gsize) got < n)
        CHECK (ss_rfile_read1 (rfile, buf, 1, NULL) == 0);
      g_free (buf);
      return got > 0 || n == 0 ? STEP_MORE : STEP_EOF;
    }
  else
    {
      gsize max = sizes[arg % G_N_ELEMENTS (sizes)];
      GByteArray *out = g_byte_array_new ();

      g_byte_array_append (out, (const guint8 *) "x", 1);
      got = ss_rfile_read_all (rfile, out, max, &error);
      if (got < 0)
        {
          /* Over max: must fail cleanly and leave @out as it was. */
          CHECK (g_error_matches (error, SS_ERROR, SS_ERROR_INVALID_ARGUMENT));
          CHECK (out->len == 1);
          g_error_free (error);
          g_byte_array_unref (out);
          return STEP_LOST;
        }
      CHECK ((gsize) got <= max && out->len == (guint) got + 1);
      g_string_append_len (seen, (const char *) out->data + 1, got);
      g_byte_array_unref (out);
      return STEP_EOF; /* read_all reads to EOF */
    }
}

/* Runs @script over @rfile, then drains it; checks the bytes seen. */
static void
run_script (SsRFile *rfile, const guint8 *script, gsize nscript,
            const guint8 *payload, gsize npayload)
{
  GString *seen = g_string_new (NULL);
  gboolean followed = TRUE;
  gsize i;

  for (i = 0; i < nscript; i++)
    {
      StepResult r = step (rfile, script[i], seen);

      if (r == STEP_LOST)
        followed = FALSE;
      if (r != STEP_MORE)
        break;
    }
  if (followed)
    {
      GByteArray *rest = g_byte_array_new ();

      CHECK (ss_rfile_read_all (rfile, rest, G_MAXSIZE, NULL) >= 0);
      g_string_append_len (seen, (const char *) rest->data, rest->len);
      g_byte_array_unref (rest);
      CHECK (seen->len == npayload);
      CHECK (npayload == 0 || memcmp (seen->str, payload, npayload) == 0);
    }
  g_string_free (seen, TRUE);
}

/* The payload through a socketpair: written whole, then the write side shut. */
static void
run_socket (gsize bufsize, const guint8 *script, gsize nscript,
            const guint8 *payload, gsize npayload)
{
  int sv[2];
  gsize off = 0;
  SsRFile *rfile;
  int sndbuf = 1 << 20;

  CHECK (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  while (off < npayload)
    {
      ssize_t n = send (sv[0], payload + off, npayload - off, MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        goto close_pair; /* did not fit in the socket buffer: the memory run covered it */
      off += (gsize) n;
    }
  shutdown (sv[0], SHUT_WR);
  rfile = ss_rfile_new_socket (sv[1], bufsize);
  run_script (rfile, script, nscript, payload, npayload);
  ss_rfile_free (rfile);
close_pair:
  close (sv[0]);
  close (sv[1]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gsize bufsize, nscript, npayload;
  const guint8 *script, *payload;
  SsRFile *rfile;

  if (size < 2 || size > 128 * 1024)
    return 0;
  bufsize = bufsizes[data[0] % G_N_ELEMENTS (bufsizes)];
  nscript = MIN ((gsize) data[1], size - 2);
  script = data + 2;
  payload = script + nscript;
  npayload = size - 2 - nscript;

  rfile = ss_rfile_new_memory (npayload > 0 ? payload : (const guint8 *) "", npayload);
  run_script (rfile, script, nscript, payload, npayload);
  ss_rfile_free (rfile);

  run_socket (bufsize, script, nscript, payload, npayload);
  return 0;
}
