/* scoreboard.c: the memory the parent shares with its children -- the
 * scoreboard, one SsPreforkSlot per possible child, and SsPreforkShared --
 * and the parent's table of children, which has a row per slot.
 *
 * Both mappings are MAP_SHARED | MAP_ANONYMOUS, made before any child is
 * forked, so every child inherits them at the same address. The board is
 * sized for max_workers and remade only while no child is alive (a child
 * still holds the old mapping: it would write into memory the parent no
 * longer reads); prefork.h says who writes what in it.
 */
#include "strategies/preforking/prefork.h"

#include <errno.h>
#include <sys/mman.h>

gpointer
ss__prefork_map_shared (gsize size, GError **error)
{
  gpointer p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

  if (p == MAP_FAILED)
    {
      ss_set_error_from_errno (error, errno, "Could not map the process pool's shared memory",
                               "Lower max_workers or raise the memory limit (ulimit -v)");
      return NULL;
    }
  return p;
}

static gsize
board_size (guint n_slots)
{
  return (gsize) n_slots * sizeof (SsPreforkSlot);
}

gboolean
ss__prefork_resize_board_unlocked (SsPreforkingStrategy *self, guint n_slots, GError **error)
{
  SsPreforkSlot *board;
  guint i;

  if (n_slots == self->n_slots)
    return TRUE;
  board = ss__prefork_map_shared (board_size (n_slots), error);
  if (board == NULL)
    return FALSE;
  if (self->board != NULL)
    munmap (self->board, board_size (self->n_slots));
  self->board = board;
  self->children = g_renew (SsPreforkChild, self->children, n_slots);
  for (i = 0; i < n_slots; i++)
    self->children[i] = (SsPreforkChild) { .pid = 0, .fd = -1, .told = FALSE, .hung_up = FALSE };
  self->n_slots = n_slots;
  return TRUE;
}

void
ss__prefork_unmap (SsPreforkingStrategy *self)
{
  if (self->board != NULL)
    munmap (self->board, board_size (self->n_slots));
  if (self->shared != NULL)
    munmap (self->shared, sizeof *self->shared);
}
