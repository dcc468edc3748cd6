/* dates.c: If-Modified-Since, as SimpleHTTPRequestHandler reads it.
 *
 *     ims = email.utils.parsedate_to_datetime(self.headers["If-Modified-Since"])
 *     # (TypeError, IndexError, OverflowError, ValueError): ignored
 *     if ims.tzinfo is None: ims = ims.replace(tzinfo=datetime.timezone.utc)
 *     if ims.tzinfo is datetime.timezone.utc:
 *         last_modif = fromtimestamp(fs.st_mtime, utc).replace(microsecond=0)
 *         if last_modif <= ims: 304
 *
 * parsedate_to_datetime is email._parseaddr._parsedate_tz, ported below
 * step for step (it reads RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT", RFC
 * 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37
 * 1994", and a good deal more), then datetime(), which refuses what is not
 * a real date. Only a zone of offset 0 is compared -- timezone(timedelta(0))
 * is timezone.utc itself -- or none ("-0000" and a missing zone are naive,
 * taken as UTC); any other offset leaves the file to be sent, as in Python.
 */
#include "http-private.h"

#include <string.h>

static const char *const monthnames[] = {
  "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
  "january", "february", "march", "april", "may", "june", "july", "august", "september",
  "october", "november", "december",
};
static const char *const daynames[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int
month_index (const char *lower)
{
  for (gsize i = 0; i < G_N_ELEMENTS (monthnames); i++)
    if (strcmp (lower, monthnames[i]) == 0)
      return (int) i;
  return -1;
}

static gboolean
is_dayname (const char *word)
{
  g_autofree char *lower = g_ascii_strdown (word, -1);

  for (gsize i = 0; i < G_N_ELEMENTS (daynames); i++)
    if (strcmp (lower, daynames[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Python's int(): optional sign, ASCII digits with single underscores
 * between them (whitespace cannot occur: the words were split on it).
 * Values past 10^12 are refused, which loses nothing: datetime() would
 * refuse them. */
static gboolean
py_int (const char *s, gint64 *out)
{
  gboolean negative = FALSE;
  gint64 value = 0;
  gboolean digit_before = FALSE;

  if (*s == '+' || *s == '-')
    negative = *s++ == '-';
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    {
      if (*s == '_' && digit_before && g_ascii_isdigit (s[1]))
        {
          digit_before = FALSE;
          continue;
        }
      if (!g_ascii_isdigit (*s))
        return FALSE;
      value = value * 10 + (*s - '0');
      if (value > G_GINT64_CONSTANT (1000000000000))
        return FALSE;
      digit_before = TRUE;
    }
  *out = negative ? -value : value;
  return TRUE;
}

static char *
chop_last (const char *s)
{
  return g_strndup (s, strlen (s) - 1);
}

/* str.isdigit() of the first character of a Latin-1 str (in UTF-8): ASCII
 * digits and the superscripts two, three and one. */
static gboolean
first_isdigit (const char *s)
{
  return g_ascii_isdigit (s[0]) || g_str_has_prefix (s, "\302\262") || g_str_has_prefix (s, "\302\263")
         || g_str_has_prefix (s, "\302\271");
}

/* _parsedate_tz. Returns FALSE for None; *@has_tz FALSE for an offset of
 * None (no zone, or -0000). */
static gboolean
parsedate_tz (const char *text, gint64 fields[6], gboolean *has_tz, gint64 *tzoffset)
{
  g_autoptr (GPtrArray) data = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *dd = NULL, *mm = NULL, *yy = NULL, *tm = NULL, *tz = NULL;
  g_auto (GStrv) tm_parts = NULL;
  const char *thh, *tmm, *tss;
  int month;

  /* data = data.split() */
  for (const char *p = text; *p != '\0';)
    {
      const char *start;

      while (*p != '\0' && ss__py_isspace (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (*p == '\0')
        break;
      start = p;
      while (*p != '\0' && !ss__py_isspace (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      g_ptr_array_add (data, g_strndup (start, (gsize) (p - start)));
    }
  if (data->len == 0)
    return FALSE;
  /* A day name (or anything up to a comma) first is skipped. */
  if (g_str_has_suffix (data->pdata[0], ",") || is_dayname (data->pdata[0]))
    g_ptr_array_remove_index (data, 0);
  else
    {
      char *comma = strrchr (data->pdata[0], ',');

      if (comma != NULL)
        {
          char *rest = g_strdup (comma + 1);

          g_free (data->pdata[0]);
          data->pdata[0] = rest;
        }
    }
  if (data->len == 3)
    {
      /* RFC 850 date, deprecated */
      g_auto (GStrv) stuff = g_strsplit (data->pdata[0], "-", -1);

      if (g_strv_length (stuff) == 3)
        {
          g_ptr_array_remove_index (data, 0);
          for (int i = 2; i >= 0; i--)
            g_ptr_array_insert (data, 0, g_strdup (stuff[i]));
        }
    }
  if (data->len == 4)
    {
      const char *s = data->pdata[3];
      const char *sign = strchr (s, '+');

      if (sign == NULL)
        sign = strchr (s, '-');
      if (sign != NULL && sign > s)
        {
          char *tzpart = g_strdup (sign);
          char *head = g_strndup (s, (gsize) (sign - s));

          g_free (data->pdata[3]);
          data->pdata[3] = head;
          g_ptr_array_add (data, tzpart);
        }
      else
        g_ptr_array_add (data, g_strdup ("")); /* dummy tz */
    }
  if (data->len < 5)
    return FALSE;
  dd = g_strdup (data->pdata[0]);
  mm = g_strdup (data->pdata[1]);
  yy = g_strdup (data->pdata[2]);
  tm = g_strdup (data->pdata[3]);
  tz = g_strdup (data->pdata[4]);
  if (*dd == '\0' || *mm == '\0' || *yy == '\0')
    return FALSE;
  {
    char *lower = g_utf8_strdown (mm, -1);

    g_free (mm);
    mm = lower;
  }
  month = month_index (mm);
  if (month < 0)
    {
      char *lower = g_utf8_strdown (dd, -1);

      g_free (dd);
      dd = mm;
      mm = lower;
      month = month_index (mm);
      if (month < 0)
        return FALSE;
    }
  month = month % 12 + 1;
  if (g_str_has_suffix (dd, ","))
    {
      char *c = chop_last (dd);

      g_free (dd);
      dd = c;
    }
  {
    const char *colon = strchr (yy, ':');

    if (colon != NULL && colon > yy)
      {
        char *t = yy;

        yy = tm;
        tm = t;
      }
  }
  if (g_str_has_suffix (yy, ","))
    {
      char *c = chop_last (yy);

      g_free (yy);
      yy = c;
      if (*yy == '\0')
        return FALSE;
    }
  if (*yy == '\0' || !first_isdigit (yy))
    {
      char *t = yy;

      yy = tz;
      tz = t;
    }
  if (*tm != '\0' && g_str_has_suffix (tm, ","))
    {
      char *c = chop_last (tm);

      g_free (tm);
      tm = c;
    }
  tm_parts = g_strsplit (tm, ":", -1);
  if (g_strv_length (tm_parts) == 2)
    thh = tm_parts[0], tmm = tm_parts[1], tss = "0";
  else if (g_strv_length (tm_parts) == 3)
    thh = tm_parts[0], tmm = tm_parts[1], tss = tm_parts[2];
  else if (g_strv_length (tm_parts) == 1 && strchr (tm, '.') != NULL)
    {
      /* Some non-compliant MUAs use '.' to separate time elements. */
      g_strfreev (tm_parts);
      tm_parts = g_strsplit (tm, ".", -1);
      if (g_strv_length (tm_parts) == 2)
        thh = tm_parts[0], tmm = tm_parts[1], tss = "0";
      else if (g_strv_length (tm_parts) == 3)
        thh = tm_parts[0], tmm = tm_parts[1], tss = tm_parts[2];
      else
        return FALSE;
    }
  else
    return FALSE;
  if (!py_int (yy, &fields[0]) || !py_int (dd, &fields[2]) || !py_int (thh, &fields[3])
      || !py_int (tmm, &fields[4]) || !py_int (tss, &fields[5]))
    return FALSE;
  fields[1] = month;
  /* A two-digit year, as POSIX reads it. */
  if (fields[0] < 100)
    fields[0] += fields[0] > 68 ? 1900 : 2000;

  *has_tz = FALSE;
  {
    g_autofree char *upper = g_utf8_strup (tz, -1);
    static const struct { const char *name; int offset; } zones[] = {
      { "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 }, { "AST", -400 }, { "ADT", -300 },
      { "EST", -500 }, { "EDT", -400 }, { "CST", -600 }, { "CDT", -500 }, { "MST", -700 },
      { "MDT", -600 }, { "PST", -800 }, { "PDT", -700 },
    };
    gint64 offset;

    for (gsize i = 0; i < G_N_ELEMENTS (zones); i++)
      if (strcmp (upper, zones[i].name) == 0)
        {
          *has_tz = TRUE;
          *tzoffset = zones[i].offset;
        }
    if (!*has_tz && py_int (upper, &offset))
      {
        *has_tz = !(offset == 0 && upper[0] == '-');
        *tzoffset = offset;
      }
  }
  if (*has_tz && *tzoffset != 0)
    {
      gint64 sign = *tzoffset < 0 ? -1 : 1;
      gint64 off = *tzoffset * sign;

      *tzoffset = sign * ((off / 100) * 3600 + (off % 100) * 60);
    }
  return TRUE;
}

static gboolean
is_leap (gint64 year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

gboolean
ss_http_parse_date_utc (const char *text, gint64 *timestamp)
{
  static const int days_in_month[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  gint64 f[6];
  gboolean has_tz = FALSE;
  gint64 tzoffset = 0;
  int mdays;
  g_autoptr (GDateTime) dt = NULL;

  g_return_val_if_fail (text != NULL && timestamp != NULL, FALSE);

  if (!parsedate_tz (text, f, &has_tz, &tzoffset))
    return FALSE;
  /* datetime(*dtuple[:6]) refuses what is not a date. */
  if (f[0] < 1 || f[0] > 9999 || f[1] < 1 || f[1] > 12 || f[3] < 0 || f[3] > 23 || f[4] < 0
      || f[4] > 59 || f[5] < 0 || f[5] > 59)
    return FALSE;
  mdays = days_in_month[f[1] - 1] + (f[1] == 2 && is_leap (f[0]) ? 1 : 0);
  if (f[2] < 1 || f[2] > mdays)
    return FALSE;
  /* timezone(timedelta(seconds=tz)) must be within a day, and only UTC is
   * compared. */
  if (has_tz && tzoffset != 0)
    return FALSE;
  dt = g_date_time_new_utc ((int) f[0], (int) f[1], (int) f[2], (int) f[3], (int) f[4], (double) f[5]);
  if (dt == NULL)
    return FALSE;
  *timestamp = g_date_time_to_unix (dt);
  return TRUE;
}
