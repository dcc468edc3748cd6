/**
 * SECTION:api
 * @title: api.h
 * @short_description: SS_API, the export marker of public declarations
 * @include: socketserver/socketserver.h
 *
 * The library is compiled with -fvisibility=hidden, so only declarations
 * carrying `SS_API` are visible to programs; the internal ss__ functions
 * shared between the library's own files stay inside it. A test in `make
 * check` (tests/test-symbols.sh) compares the exported symbols with these
 * declarations, both ways.
 */
#pragma once

/**
 * SS_API:
 *
 * Marks a public declaration: `__attribute__ ((visibility ("default")))
 * extern`, unless defined already (tests/test-symbols.sh defines it to
 * find the declarations). Programs never need it themselves.
 */
#ifndef SS_API
#define SS_API __attribute__ ((visibility ("default"))) extern
#endif
