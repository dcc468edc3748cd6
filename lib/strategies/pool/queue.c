/* queue.c: the pool's hand-off queue, a ring buffer of requests.
 *
 * Requests handed to the pool by process_request (handle_request, a
 * user's process_request calling super, any thread outside the pool) wait
 * here for a worker. A ring allocates nothing per request; it grows by
 * doubling when full and never shrinks, so its size is the deepest the
 * queue has been. It knows nothing of locks or workers: the pool holds its
 * lock around every call and does the signalling (pool.c).
 */
#include "strategies/pool/pool.h"

void
ss__pool_queue_push (SsPoolQueue *queue, SsRequest *request)
{
  if (queue->len == queue->cap)
    {
      /* Grow and unwrap: the oldest request goes to index 0. */
      guint cap = MAX (16u, queue->cap * 2);
      SsRequest **ring = g_new (SsRequest *, cap);
      guint i;

      for (i = 0; i < queue->len; i++)
        ring[i] = queue->ring[(queue->head + i) % queue->cap];
      g_free (queue->ring);
      queue->ring = ring;
      queue->cap = cap;
      queue->head = 0;
    }
  queue->ring[(queue->head + queue->len) % queue->cap] = request;
  queue->len++;
}

SsRequest *
ss__pool_queue_pop (SsPoolQueue *queue)
{
  SsRequest *request;

  if (queue->len == 0)
    return NULL;
  request = queue->ring[queue->head];
  queue->head = (queue->head + 1) % queue->cap;
  queue->len--;
  return request;
}

void
ss__pool_queue_clear (SsPoolQueue *queue)
{
  g_warn_if_fail (queue->len == 0);
  g_clear_pointer (&queue->ring, g_free);
  queue->cap = queue->head = queue->len = 0;
}
