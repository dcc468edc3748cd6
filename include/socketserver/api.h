/* api.h: SS_API marks what the shared library exports.
 *
 * The library is compiled with -fvisibility=hidden, so only declarations
 * carrying SS_API are visible to programs; the internal ss__ functions
 * shared between the library's own files stay inside it. A test in `make
 * check` (tests/test-symbols.sh) compares the exported symbols with these
 * declarations, both ways.
 */
#pragma once

#ifndef SS_API
#define SS_API __attribute__ ((visibility ("default"))) extern
#endif
