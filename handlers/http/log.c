/* log.c: BaseHTTPRequestHandler's log lines and date strings, Python's.
 *
 *     def log_message(self, format, *args):
 *         message = format % args
 *         sys.stderr.write("%s - - [%s] %s\n" %
 *                          (self.address_string(),
 *                           self.log_date_time_string(),
 *                           message.translate(self._control_char_table)))
 *
 * where the table turns U+0000..U+001F and U+007F..U+009F into \xNN and a
 * backslash into two. The message arrives formatted (ss_http_log_message
 * formats, then calls the slot), in UTF-8 as Python's str would be written
 * to a UTF-8 stderr; a byte that is not UTF-8 is written \udcNN, as
 * Python's stderr (errors='backslashreplace') writes the surrogate that
 * such a byte decodes to. Each line is one write(2), so lines from
 * several threads do not mix.
 *
 * The date strings are cached per thread, the current second's and the
 * last other one (a file's Last-Modified): the formatted times of a
 * request otherwise cost more than the rest of a small response.
 */
#include "http-private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const weekdayname[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const monthname[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* A thread's formatted times: the current second's, and the last other
 * one asked for (a file's mtime: Last-Modified, the same on every request
 * for that file). */
typedef struct {
  gint64 now_second;
  char now_text[SS_HTTP_DATE_LEN];
  gint64 other_second;
  char other_text[SS_HTTP_DATE_LEN];
} DateCache;

#define DATE_CACHE_INIT { -1, "", -1, "" }

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* @timestamp (< 0: now) formatted by @format_tm into @buf, through the
 * thread's @cache. Which second "now" is is read only for a timestamp that
 * is not the cached other one. */
static void
cached_time_string (DateCache *cache, gint64 timestamp, char buf[SS_HTTP_DATE_LEN],
                    void (*format_tm) (time_t t, char buf[SS_HTTP_DATE_LEN]))
{
  gint64 now;

  if (timestamp >= 0 && timestamp == cache->other_second)
    {
      memcpy (buf, cache->other_text, SS_HTTP_DATE_LEN);
      return;
    }
  now = now_seconds ();
  if (timestamp < 0)
    timestamp = now;
  if (timestamp == now && cache->now_second == now)
    {
      memcpy (buf, cache->now_text, SS_HTTP_DATE_LEN);
      return;
    }
  format_tm ((time_t) timestamp, buf);
  if (timestamp == now)
    {
      cache->now_second = now;
      memcpy (cache->now_text, buf, SS_HTTP_DATE_LEN);
    }
  else
    {
      cache->other_second = timestamp;
      memcpy (cache->other_text, buf, SS_HTTP_DATE_LEN);
    }
}

/* email.utils.format_datetime: '%s, %02d %s %04d %02d:%02d:%02d GMT' */
static void
format_http_date (time_t t, char buf[SS_HTTP_DATE_LEN])
{
  struct tm tm;

  gmtime_r (&t, &tm);
  g_snprintf (buf, SS_HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", weekdayname[tm.tm_wday],
              tm.tm_mday, monthname[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* log_date_time_string: "%02d/%3s/%04d %02d:%02d:%02d", local time. */
static void
format_log_date (time_t t, char buf[SS_HTTP_DATE_LEN])
{
  struct tm tm;

  localtime_r (&t, &tm);
  g_snprintf (buf, SS_HTTP_DATE_LEN, "%02d/%s/%04d %02d:%02d:%02d", tm.tm_mday, monthname[tm.tm_mon],
              tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
ss_http_date_time_string (gint64 timestamp, char buf[SS_HTTP_DATE_LEN])
{
  static __thread DateCache cache = DATE_CACHE_INIT;

  cached_time_string (&cache, timestamp, buf, format_http_date);
}

void
ss_http_log_date_time_string (gint64 timestamp, char buf[SS_HTTP_DATE_LEN])
{
  static __thread DateCache cache = DATE_CACHE_INIT;

  cached_time_string (&cache, timestamp, buf, format_log_date);
}

/* message.translate(_control_char_table), written as UTF-8. */
static void
append_escaped (GString *out, const char *message)
{
  const char *p = message;
  const char *end = message + strlen (message);

  while (p < end)
    {
      const char *next;
      const char *run = p;
      gunichar c;

      /* Printable ASCII other than the backslash is written as it is: a
       * run at a time. */
      while (p < end && (guchar) *p >= 0x20 && (guchar) *p < 0x7f && *p != '\\')
        p++;
      if (p > run)
        g_string_append_len (out, run, p - run);
      if (p == end)
        break;
      c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\udc%02x", (guchar) *p);
          p++;
          continue;
        }
      next = g_utf8_next_char (p);
      if (c < 0x20 || (c >= 0x7f && c < 0xa0))
        g_string_append_printf (out, "\\x%02x", c);
      else if (c == '\\')
        g_string_append (out, "\\\\");
      else
        g_string_append_len (out, p, next - p);
      p = next;
    }
}

static void
write_stderr (const GString *line)
{
  gsize done = 0;

  while (done < line->len)
    {
      ssize_t n = write (STDERR_FILENO, line->str + done, line->len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return; /* nowhere to log to: as Python, the request goes on */
      done += (gsize) n;
    }
}

/* self.client_address[0]: the same for every request of a connection, so
 * worked out once (owned by the handler). */
static const char *
client_host (SsBaseHTTPRequestHandler *self)
{
  const SsAddress *client = self->parent.parent.client_address;

  if (self->priv->address == NULL)
    self->priv->address = ss_address_family (client) == AF_UNIX
                              ? g_strdup ("") /* Python's client_address for a Unix socket is '' */
                              : ss_address_host_string (client);
  return self->priv->address;
}

void
ss__http_log_message (SsBaseHTTPRequestHandler *self, const char *message)
{
  GString *line = self->priv->log_line;
  g_autofree char *own_address = NULL;
  const char *address;
  char date[SS_HTTP_DATE_LEN];

  /* The default address_string is this connection's, worked out once. */
  if (SS__HTTP_VT (self)->address_string == ss__http_address_string)
    address = client_host (self);
  else
    address = own_address = ss_http_address_string (self);
  ss_http_log_date_time_string (-1, date);
  if (line == NULL)
    line = self->priv->log_line = g_string_sized_new (256);
  g_string_truncate (line, 0);
  g_string_append (line, address);
  g_string_append (line, " - - [");
  g_string_append (line, date);
  g_string_append (line, "] ");
  append_escaped (line, message);
  g_string_append_c (line, '\n');
  write_stderr (line);
}

void
ss__http_log_error (SsBaseHTTPRequestHandler *self, const char *message)
{
  SS__HTTP_VT (self)->log_message (self, message);
}

/* self.log_message('"%s" %s %s', self.requestline, str(code), str(size)) */
void
ss__http_log_request (SsBaseHTTPRequestHandler *self, int code, gssize size)
{
  GString *message = self->priv->log_message;
  char number[SS__HTTP_DECIMAL_LEN];

  /* What ss_http_log_message would format, put together directly. */
  if (message == NULL)
    message = self->priv->log_message = g_string_sized_new (128);
  g_string_truncate (message, 0);
  g_string_append_c (message, '"');
  g_string_append (message, self->requestline != NULL ? self->requestline : "(null)");
  g_string_append (message, "\" ");
  g_string_append (message, code >= 0 ? ss__http_decimal (number, code) : "-");
  g_string_append_c (message, ' ');
  g_string_append (message, size >= 0 ? ss__http_decimal (number, size) : "-");
  SS__HTTP_VT (self)->log_message (self, message->str);
}

char *
ss__http_version_string (SsBaseHTTPRequestHandler *self)
{
  return g_strconcat (SS__HTTP_VT (self)->server_version, " ", SS__HTTP_VT (self)->sys_version, NULL);
}

/* Formats into @stack when it fits (the common case allocates nothing),
 * else into *@heap (g_free it). */
const char *
ss__http_vformat (char *stack, gsize size, char **heap, const char *format, va_list args)
{
  va_list copy;
  int n;

  *heap = NULL;
  va_copy (copy, args);
  n = g_vsnprintf (stack, size, format, copy);
  va_end (copy);
  if (n >= 0 && (gsize) n < size)
    return stack;
  *heap = g_strdup_vprintf (format, args);
  return *heap;
}

/* address_string: self.client_address[0]. */
char *
ss__http_address_string (SsBaseHTTPRequestHandler *self)
{
  return g_strdup (client_host (self));
}

/* ------------------------------------------------------------ dispatchers */

void
ss_http_log_request (SsBaseHTTPRequestHandler *self, int code, gssize size)
{
  SS__HTTP_VT (self)->log_request (self, code, size);
}

/* Formats the message and hands it to @slot (log_error or log_message). */
static void
log_through (SsBaseHTTPRequestHandler *self, void (*slot) (SsBaseHTTPRequestHandler *, const char *),
             const char *format, va_list args)
{
  char stack[512];
  g_autofree char *heap = NULL;

  slot (self, ss__http_vformat (stack, sizeof stack, &heap, format, args));
}

void
ss_http_log_error (SsBaseHTTPRequestHandler *self, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  log_through (self, SS__HTTP_VT (self)->log_error, format, args);
  va_end (args);
}

void
ss_http_log_message (SsBaseHTTPRequestHandler *self, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  log_through (self, SS__HTTP_VT (self)->log_message, format, args);
  va_end (args);
}

char *
ss_http_version_string (SsBaseHTTPRequestHandler *self)
{
  return SS__HTTP_VT (self)->version_string (self);
}

char *
ss_http_address_string (SsBaseHTTPRequestHandler *self)
{
  return SS__HTTP_VT (self)->address_string (self);
}
