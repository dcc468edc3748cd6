/* unix.c: placeholder until its implementation lands. */
#include "internal.h"
