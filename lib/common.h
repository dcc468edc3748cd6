/* common.h: the first include of every source file of the library.
 *
 * The build configuration, the log domain every log line of the library
 * carries (SS_MESSAGE, SS_WARNING), and the public API. Each layer adds
 * its own small private header on top of this one (lib/README.md has the
 * include rules).
 */
#pragma once

#include "config.h"

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "socketserver"

#include <socketserver/socketserver.h>

/* The library's log lines (lib/core/log.c): g_logv in the library's
 * domain under one process-wide lock, so that two threads' lines never
 * race inside GLib's writer. */
void ss__log (GLogLevelFlags level, const char *format, ...) G_GNUC_PRINTF (2, 3);
#define SS_MESSAGE(...) ss__log (G_LOG_LEVEL_MESSAGE, __VA_ARGS__)
#define SS_WARNING(...) ss__log (G_LOG_LEVEL_WARNING, __VA_ARGS__)
