/* common.h: the first include of every source file of the library.
 *
 * The build configuration, the log domain every g_message of the library
 * carries, and the public API. Each layer adds its own small private
 * header on top of this one (lib/README.md has the include rules).
 */
#pragma once

#include "config.h"

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "socketserver"

#include <socketserver/socketserver.h>
