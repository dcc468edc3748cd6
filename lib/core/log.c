/* log.c: the library's log lines, one at a time.
 *
 * GLib 2.74's default log writer stamps each line with localtime(), whose
 * static buffer and time zone state are shared by the whole process: two
 * threads logging at once (handle_error in two workers, say) race on them
 * (ThreadSanitizer reports tzset_internal and g_log_writer_format_fields;
 * a line could get the other's time). Every line the library logs goes
 * through ss__log, which holds one process-wide lock around g_logv, so
 * the library's lines never race with each other. Lines a program logs
 * itself from several threads are the program's to serialize (or its
 * writer's: g_log_set_writer_func).
 *
 * The lock is recursive (a writer that logs again from inside), and is
 * taken around fork() (pthread_atfork), so that a child forked while
 * another thread was logging (the forking and preforking strategies, a
 * restart) does not inherit it held.
 */
#include "core/core.h"

#include <pthread.h>
#include <stdarg.h>

static pthread_mutex_t log_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void
lock_for_fork (void)
{
  pthread_mutex_lock (&log_lock);
}

static void
unlock_after_fork (void)
{
  pthread_mutex_unlock (&log_lock);
}

static void
install_fork_handlers (void)
{
  pthread_atfork (lock_for_fork, unlock_after_fork, unlock_after_fork);
}

static void
log_lock_take (void)
{
  pthread_once (&log_once, install_fork_handlers);
  pthread_mutex_lock (&log_lock);
}

static void
log_lock_give (void)
{
  pthread_mutex_unlock (&log_lock);
}

void
ss__log (GLogLevelFlags level, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  log_lock_take ();
  g_logv (G_LOG_DOMAIN, level, format, args);
  log_lock_give ();
  va_end (args);
}
