/* response.c: BaseHTTPRequestHandler's response side, as Python writes it.
 *
 * send_response_only and send_header append to _headers_buffer (nothing
 * at all for an HTTP/0.9 request, which gets no status line and no
 * headers); end_headers adds the empty line and flush_headers hands the
 * buffer to wfile, which holds it until the body's first write so that
 * headers and body leave in one send (wfile.h). send_header also
 * watches Connection: close and keep-alive, whatever the version.
 *
 * send_error is Python's to the byte: it logs "code %d, message %s",
 * sends the code with the message (the phrase by default) and
 * Connection: close, and unless the code is 1xx, 204, 205 or 304 a body
 * made from error_message_format with the HTML-escaped message and
 * explanation, its Content-Type and Content-Length; no body for HEAD.
 */
#include "http-private.h"

#include <stdarg.h>
#include <string.h>

/* ------------------------------------------------------------ error_message_format */

/* Appends one %(name)<flags><width><.precision><conversion> of Python's
 * %-formatting with a mapping (conversions s, r, d, i; flags - + space
 * 0). Returns the characters consumed after '%', 0 when the directive is
 * not one Python would accept here (it is then copied as it is). */
static gsize
format_directive (GString *out, const char *p, int code, const char *message, const char *explain)
{
  const char *close = strchr (p, ')');
  const char *q;
  gboolean left = FALSE, zero = FALSE, plus = FALSE, space = FALSE;
  long width = 0, precision = -1;
  g_autoptr (GString) item = g_string_new (NULL);
  g_autofree char *name = NULL;
  gsize name_len;
  char conversion;

  if (*p != '(' || close == NULL)
    return 0;
  name_len = (gsize) (close - p - 1);
  name = g_strndup (p + 1, name_len);
  for (q = close + 1; *q != '\0' && strchr ("-+ #0", *q) != NULL; q++)
    {
      left |= *q == '-';
      zero |= *q == '0';
      plus |= *q == '+';
      space |= *q == ' ';
    }
  for (; g_ascii_isdigit (*q); q++)
    width = MIN (width * 10 + (*q - '0'), 4096);
  if (*q == '.')
    for (precision = 0, q++; g_ascii_isdigit (*q); q++)
      precision = MIN (precision * 10 + (*q - '0'), 4096);
  conversion = *q;
  if (strcmp (name, "code") == 0 && strchr ("sdir", conversion) != NULL && conversion != '\0')
    {
      if (code >= 0 && (conversion == 'd' || conversion == 'i') && (plus || space))
        g_string_append_c (item, plus ? '+' : ' ');
      g_string_append_printf (item, "%d", code);
      if (conversion == 's' && precision >= 0 && (gsize) precision < item->len)
        g_string_truncate (item, (gsize) precision);
    }
  else if ((strcmp (name, "message") == 0 || strcmp (name, "explain") == 0)
           && (conversion == 's' || conversion == 'r') && conversion != '\0')
    {
      const char *text = name[0] == 'm' ? message : explain;

      if (conversion == 'r')
        ss__py_repr (item, text);
      else
        g_string_append (item, text);
      if (precision >= 0 && (gsize) precision < (gsize) g_utf8_strlen (item->str, -1))
        g_string_truncate (item, (gsize) (g_utf8_offset_to_pointer (item->str, precision) - item->str));
      zero = FALSE;
    }
  else
    return 0;
  /* Width counts characters, as Python's does. */
  for (glong pad = width - g_utf8_strlen (item->str, -1); pad > 0; pad--)
    {
      if (left)
        g_string_append_c (item, ' ');
      else if (zero && g_ascii_isdigit (item->str[0]))
        g_string_prepend_c (item, '0');
      else if (zero)
        g_string_insert_c (item, 1, '0'); /* after the sign */
      else
        g_string_prepend_c (item, ' ');
    }
  g_string_append_len (out, item->str, (gssize) item->len);
  return (gsize) (q - p) + 1;
}

void
ss__http_format_error (GString *out, const char *format, int code, const char *message,
                       const char *explain)
{
  for (const char *p = format; *p != '\0'; p++)
    {
      gsize used;

      if (*p != '%')
        {
          g_string_append_c (out, *p);
          continue;
        }
      if (p[1] == '%')
        {
          g_string_append_c (out, '%');
          p++;
          continue;
        }
      used = format_directive (out, p + 1, code, message, explain);
      if (used == 0)
        g_string_append_c (out, '%');
      p += used;
    }
}

/* ------------------------------------------------------------ the slots */

gboolean
ss__http_send_error (SsBaseHTTPRequestHandler *self, int code, const char *message,
                     const char *explain, GError **error)
{
  const char *shortmsg = ss_http_status_phrase (code);
  const char *longmsg = ss_http_status_description (code);
  g_autoptr (GString) body = NULL;
  gboolean ok;

  if (shortmsg == NULL)
    shortmsg = longmsg = "???";
  if (message == NULL)
    message = shortmsg;
  if (explain == NULL)
    explain = longmsg;
  ss_http_log_error (self, "code %d, message %s", code, message);
  ss_http_send_response (self, code, message);
  ss_http_send_header (self, "Connection", "close");

  /* Message body is omitted for cases described in:
   *  - RFC7230: 3.3. 1xx, 204(No Content), 304(Not Modified)
   *  - RFC7231: 6.3.6. 205(Reset Content) */
  if (code >= 200 && code != 204 && code != 205 && code != 304)
    {
      g_autoptr (GString) escaped_message = g_string_new (NULL);
      g_autoptr (GString) escaped_explain = g_string_new (NULL);

      /* HTML encode to prevent Cross Site Scripting attacks (bug #1100201). */
      ss__html_escape (escaped_message, message, strlen (message));
      ss__html_escape (escaped_explain, explain, strlen (explain));
      body = g_string_new (NULL);
      ss__http_format_error (body, SS__HTTP_VT (self)->error_message_format, code,
                             escaped_message->str, escaped_explain->str);
      ss_http_send_header (self, "Content-Type", SS__HTTP_VT (self)->error_content_type);
      ss_http_send_header_printf (self, "Content-Length", "%" G_GSIZE_FORMAT, body->len);
    }
  ok = ss_http_end_headers (self, error);
  if (ok && g_strcmp0 (self->command, "HEAD") != 0 && body != NULL && body->len > 0)
    ok = ss_wfile_write (self->wfile, body->str, body->len, error);
  return ok;
}

void
ss__http_send_response (SsBaseHTTPRequestHandler *self, int code, const char *message)
{
  char date[SS_HTTP_DATE_LEN];
  g_autofree char *version = NULL;

  ss_http_log_request (self, code, -1);
  ss_http_send_response_only (self, code, message);
  /* The default version_string is the same for a whole connection. */
  if (SS__HTTP_VT (self)->version_string != ss__http_version_string)
    version = ss_http_version_string (self);
  else if (self->priv->version == NULL)
    self->priv->version = ss_http_version_string (self);
  ss_http_send_header (self, "Server", version != NULL ? version : self->priv->version);
  ss_http_date_time_string (-1, date);
  ss_http_send_header (self, "Date", date);
}

static gboolean
is_http09 (SsBaseHTTPRequestHandler *self)
{
  return strcmp (self->request_version, "HTTP/0.9") == 0;
}

void
ss__http_send_response_only (SsBaseHTTPRequestHandler *self, int code, const char *message)
{
  GString *buffer = self->priv->headers_buffer;
  char number[SS__HTTP_DECIMAL_LEN];

  if (is_http09 (self))
    return;
  if (message == NULL)
    message = ss_http_status_phrase (code) != NULL ? ss_http_status_phrase (code) : "";
  ss__utf8_to_latin1 (buffer, SS__HTTP_VT (self)->protocol_version,
                      strlen (SS__HTTP_VT (self)->protocol_version));
  g_string_append_c (buffer, ' ');
  if (code >= 0)
    g_string_append (buffer, ss__http_decimal (number, code));
  else
    g_string_append_printf (buffer, "%d", code);
  g_string_append_c (buffer, ' ');
  ss__utf8_to_latin1 (buffer, message, strlen (message));
  g_string_append (buffer, "\r\n");
}

void
ss__http_send_header (SsBaseHTTPRequestHandler *self, const char *keyword, const char *value)
{
  if (!is_http09 (self))
    {
      GString *buffer = self->priv->headers_buffer;

      ss__utf8_to_latin1 (buffer, keyword, strlen (keyword));
      g_string_append (buffer, ": ");
      ss__utf8_to_latin1 (buffer, value, strlen (value));
      g_string_append (buffer, "\r\n");
    }
  if (g_ascii_strcasecmp (keyword, "connection") == 0)
    {
      if (g_ascii_strcasecmp (value, "close") == 0)
        self->close_connection = TRUE;
      else if (g_ascii_strcasecmp (value, "keep-alive") == 0)
        self->close_connection = FALSE;
    }
}

gboolean
ss__http_end_headers (SsBaseHTTPRequestHandler *self, GError **error)
{
  if (is_http09 (self))
    return TRUE;
  g_string_append (self->priv->headers_buffer, "\r\n");
  return ss_http_flush_headers (self, error);
}

gboolean
ss_http_flush_headers (SsBaseHTTPRequestHandler *self, GError **error)
{
  GString *buffer = self->priv->headers_buffer;

  if (buffer->len > 0)
    ss_wfile_hold (self->wfile, buffer->str, buffer->len);
  g_string_truncate (buffer, 0);
  return TRUE;
}

/* ------------------------------------------------------------ dispatchers */

gboolean
ss_http_send_error (SsBaseHTTPRequestHandler *self, int code, const char *message,
                    const char *explain, GError **error)
{
  return SS__HTTP_VT (self)->send_error (self, code, message, explain, error);
}

void
ss_http_send_response (SsBaseHTTPRequestHandler *self, int code, const char *message)
{
  SS__HTTP_VT (self)->send_response (self, code, message);
}

void
ss_http_send_response_only (SsBaseHTTPRequestHandler *self, int code, const char *message)
{
  SS__HTTP_VT (self)->send_response_only (self, code, message);
}

void
ss_http_send_header (SsBaseHTTPRequestHandler *self, const char *keyword, const char *value)
{
  SS__HTTP_VT (self)->send_header (self, keyword, value);
}

void
ss_http_send_header_printf (SsBaseHTTPRequestHandler *self, const char *keyword,
                            const char *format, ...)
{
  char stack[256];
  g_autofree char *heap = NULL;
  const char *value;
  va_list args;

  va_start (args, format);
  value = ss__http_vformat (stack, sizeof stack, &heap, format, args);
  va_end (args);
  ss_http_send_header (self, keyword, value);
}

gboolean
ss_http_end_headers (SsBaseHTTPRequestHandler *self, GError **error)
{
  return SS__HTTP_VT (self)->end_headers (self, error);
}
