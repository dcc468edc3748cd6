/* cli.h: what every program in servers/ answers the same way.
 *
 * --version prints GNU's form, "PROGRAM (libsocketserver) VERSION", on
 * stdout and exits 0 at once, before any other option is checked (as GNU
 * programs do, so `PROGRAM --version` works whatever else is on the line).
 * A program defines SS_CLI_PROGRAM before including this header and puts
 * SS_CLI_VERSION_ENTRY first in its GOptionEntry table.
 */
#pragma once

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <glib.h>

#ifndef SS_CLI_PROGRAM
#error "define SS_CLI_PROGRAM (the program's name) before including cli.h"
#endif

static gboolean
ss_cli_print_version (const char *option_name, const char *value, gpointer data, GError **error)
{
  (void) option_name;
  (void) value;
  (void) data;
  (void) error;
  printf ("%s (%s) %s\n", SS_CLI_PROGRAM, PACKAGE_NAME, PACKAGE_VERSION);
  fflush (stdout);
  exit (EXIT_SUCCESS);
}

#define SS_CLI_VERSION_ENTRY \
  { "version", 'V', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) ss_cli_print_version, \
    "print the program's name and the package version, then exit 0", NULL }
