/* prefork.h: what the files of the preforking strategy (preforking/)
 * share.
 *
 *   api.c         the strategy object's construction, its settings and
 *                 the public calls (include/socketserver/preforking.h)
 *   ops.c         the strategy ops: start and stop serving, close, stats
 *   scoreboard.c  the memory shared with the children, and the parent's
 *                 table of them
 *   spawn.c       a child from the parent's side: fork, tell, reap, report
 *   manager.c     the parent's maintenance thread
 *   sentinel.c    the parent's watch over the places on the socket
 *   child.c       a child's life: accept, run, leave
 *   policy.c      Apache's idle-server maintenance as a pure function
 *
 * Children are forked ahead of time, so fork()'s cost (about 820 us here,
 * and a GLib child re-faulting its pages) is paid per child, not per
 * request; max_requests bounds how long a child lives.
 *
 * Parent and children share two MAP_SHARED mappings: the server's counters
 * (ss__server_share_counters) and the scoreboard, one slot per possible
 * child, in which each child writes its own state with atomic stores.
 * Everything else is the parent's alone, under `lock`; a child only ever
 * reads its copy of it (made by fork, never written by another thread).
 */
#pragma once

#include "strategies/strategy-private.h"

#include <poll.h>
#include <pthread.h>
#include <sys/types.h>

/* ------------------------------------------------------------ policy */

typedef struct {
  guint min_workers;
  guint max_workers;
  guint min_spare;
  guint max_spare;   /* the rule already applied */
} SsPreforkLimits;

/* What a pass carries over to the next (Apache's retained state). */
typedef struct {
  guint spawn_rate;        /* 1, 2, 4, ... SS_PREFORKING_MAX_SPAWN_RATE */
  gboolean max_reported;   /* the max_workers line was logged */
} SsPreforkPolicy;

typedef struct {
  guint spawn;             /* children to fork now */
  gboolean retire;         /* ask one idle child to leave */
  gboolean log_max;        /* log that max_workers was reached (first time) */
  gboolean max_reached;    /* the pool is short of spares at max_workers */
  gboolean log_busy;       /* the spawn rate is high: a hint worth a line */
} SsPreforkDecision;

/* One maintenance pass: @workers children that are not leaving, @idle of
 * them waiting for a connection (or still starting, as Apache counts
 * them), @alive children in all (those leaving still hold their slot, as
 * a gracefully exiting child holds its scoreboard slot in Apache, so they
 * count against max_workers). Updates @policy. */
void ss__prefork_decide (const SsPreforkLimits *limits, guint workers, guint idle, guint alive,
                         SsPreforkPolicy *policy, SsPreforkDecision *decision);

/* ------------------------------------------------------------ scoreboard */

typedef enum {
  SS_PREFORK_SLOT_FREE = 0,
  SS_PREFORK_SLOT_STARTING,   /* forked, not yet waiting: counted idle */
  SS_PREFORK_SLOT_IDLE,       /* waiting for a connection */
  SS_PREFORK_SLOT_BUSY,       /* took a connection, running it */
  SS_PREFORK_SLOT_EXITING,    /* leaving of its own accord */
} SsPreforkSlotState;

typedef enum {
  SS_PREFORK_LEFT_TOLD = 0,   /* the parent asked (retire, stop) */
  SS_PREFORK_LEFT_RECYCLED,   /* max_requests reached */
  SS_PREFORK_LEFT_ORPHANED,   /* the parent went away */
} SsPreforkLeft;

/* Shared by every process of the pool, mapped once (see
 * child.c for the accept cap). */
typedef struct {
  SsServerCounters counters;   /* the server's (ss__server_share_counters) */
  gint on_socket;              /* (atomic) children holding a place on the listening socket,
                                * waiting there or running what they took from it */
  gint standby;                /* (atomic) idle children waiting on the doorbell */
  gint accept_cap;             /* places on the socket while requests are short: one per two
                                * CPUs, as the thread pool's (BENCHMARKS.md) */
  gint lent;                   /* (atomic) places lent beyond the cap by the parent's
                                * sentinel while blocked holders stall the backlog (sentinel.c) */
  gint64 request_us_avg;       /* (atomic) moving average of a request's duration */
} SsPreforkShared;

/* Requests shorter than this on average (the thread pool's figure,
 * strategy-private.h) cap the places on the socket; longer ones let every
 * idle child wait there. */
#define SS_PREFORK_SHORT_REQUEST_US SS_SHORT_REQUEST_US

/* Takes one off a count of places (on_socket, standby), never below 0,
 * and returns what is left. A child killed between the two stores of
 * take_place or leave_place (child.c) leaves its role and the count out
 * of step by one, and its place is then taken off twice (spawn.c, mend):
 * a count one too low lets one child more onto the socket, harmless,
 * where a count stuck at -1 would keep the last child to leave from
 * ringing anyone. */
static inline gint
ss__prefork_count_down (gint *count)
{
  gint n = __atomic_load_n (count, __ATOMIC_SEQ_CST);

  while (n > 0 && !__atomic_compare_exchange_n (count, &n, n - 1, FALSE, __ATOMIC_SEQ_CST,
                                                __ATOMIC_SEQ_CST))
    ;
  return MAX (n - 1, 0);
}

/* Whether a connection waits on the listening socket now (poll, no wait):
 * a child coming from the doorbell, and the sentinel, ask. */
static inline gboolean
ss__prefork_listen_ready (int listen_fd)
{
  struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };

  return poll (&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Whether the accept cap holds now (child.c). */
static inline gboolean
ss__prefork_capped (const SsPreforkShared *sh)
{
  return __atomic_load_n (&sh->request_us_avg, __ATOMIC_RELAXED) < SS_PREFORK_SHORT_REQUEST_US;
}

typedef enum {
  SS_PREFORK_ROLE_NONE = 0,
  SS_PREFORK_ROLE_SOCKET,     /* counted in on_socket */
  SS_PREFORK_ROLE_STANDBY,    /* counted in standby */
} SsPreforkRole;

/* What the parent writes on a child's control socket. */
#define SS_PREFORK_RETIRE 'r'   /* the maintenance: take what is pending, then leave */
#define SS_PREFORK_STOP   'q'   /* stop serving: leave after the request in hand */

/* One child's slot in shared memory; the child writes state, role, left,
 * taken and client, the parent told; the parent resets it before each
 * fork. */
typedef struct {
  gint state;            /* (atomic) SsPreforkSlotState */
  gint role;             /* (atomic) SsPreforkRole */
  gint left;             /* (atomic) SsPreforkLeft, valid once EXITING */
  guint64 taken;         /* (atomic) requests taken so far: the sentinel sees progress */
  gint told;             /* (atomic) written by the parent: what it said on the control
                          * socket (SS_PREFORK_RETIRE, SS_PREFORK_STOP), 0 before */
  SsAddress client;      /* the request being run while BUSY (the crash report) */
} SsPreforkSlot;

/* ------------------------------------------------------------ strategy */

/* The parent's record of a child (index = its scoreboard slot). */
typedef struct {
  pid_t pid;             /* 0 = slot free; -1 = being forked */
  int fd;                /* our end of the child's control socket, -1 once closed */
  gboolean told;         /* asked to leave: no longer counted by the maintenance */
  gboolean hung_up;      /* its control socket hung up: it exited or is exiting */
  guint64 seen_taken;    /* the sentinel's last reading of its slot's taken */
  gint64 seen_at;        /* and when that reading changed (monotonic us) */
} SsPreforkChild;

typedef struct {
  SsStrategy parent;  /* base, first member */

  /* Guards every field below marked (lock). Never held across fork,
   * waitpid(pid, 0), epoll_wait or any user code. */
  pthread_mutex_t lock;
  SsServer *server;                 /* set by attach */

  /* Configuration (lock); a child reads its own copy. */
  guint min_workers;
  guint max_workers;
  guint min_spare;
  guint max_spare_setting;          /* SS_PREFORKING_MAX_SPARE_DEFAULT = the rule */
  guint max_requests;
  double interval;
  gboolean block_on_close;
  SsPreforkingChildHook child_init;
  SsPreforkingChildHook child_exit;
  gpointer hook_data;

  /* Shared with the children (MAP_SHARED | MAP_ANONYMOUS). */
  SsPreforkShared *shared;
  SsPreforkSlot *board;
  guint n_slots;                    /* board and children have this many */

  /* The parent's (lock). */
  SsPreforkChild *children;
  guint alive;                      /* children forked and not yet reaped */
  SsPreforkPolicy policy;
  guint64 spawned;
  guint64 retired;
  guint64 passes;
  guint last_spawned;
  guint64 crashed;
  guint64 recycled;
  gboolean max_reached;
  gint64 sentinel_last_look;        /* (lock) sentinel.c */
  guint64 loans;                    /* (lock) looks that lent a place more */

  /* The maintenance thread (manager.c); serving is (lock). */
  gboolean serving;
  gboolean have_manager;
  pthread_t manager;
  int epfd;                         /* the manager's: stop + every child's fd */
  SsWakeFd stop;
  int doorbell;                     /* eventfd (semaphore): wakes one standby child per token */

  /* Valid in a child only (its copy of the struct). */
  gboolean in_child;
  guint my_slot;
} SsPreforkingStrategy;

/* ops.c: the strategy's ops table (ss_is_preforking_strategy compares). */
extern const SsStrategyOps ss__prefork_ops;

/* api.c: the settings as the policy's limits, the rules applied. (lock) */
SsPreforkLimits ss__prefork_limits_unlocked (SsPreforkingStrategy *self);

/* scoreboard.c */
/* Maps @size bytes shared with every child forked afterwards. */
gpointer ss__prefork_map_shared (gsize size, GError **error);
/* Sizes the scoreboard and the parent's table for @n_slots children. Only
 * while no child is alive. (lock) */
gboolean ss__prefork_resize_board_unlocked (SsPreforkingStrategy *self, guint n_slots,
                                            GError **error);
/* Unmaps the scoreboard and the shared counters (the strategy's free). */
void ss__prefork_unmap (SsPreforkingStrategy *self);

/* spawn.c */
/* Forks one child. Returns FALSE with @error when no slot, socket or
 * process could be had. */
gboolean ss__prefork_spawn (SsPreforkingStrategy *self, GError **error);
/* Reaps the children that have exited (@blocking: waits for each of ours
 * in turn) and reports the ones that died. Returns how many it reaped.
 * Called without the lock. */
guint ss__prefork_reap (SsPreforkingStrategy *self, gboolean blocking);
/* Asks child @slot to leave (@why: SS_PREFORK_RETIRE or SS_PREFORK_STOP).
 * (lock) */
void ss__prefork_tell_unlocked (SsPreforkingStrategy *self, guint slot, char why);
/* Adds @tokens to the doorbell: wakes as many standby children. */
void ss__prefork_ring (int doorbell, guint64 tokens);

/* sentinel.c: while the places on the socket are capped, lends a place
 * to a standby child for each place holder found blocked while a
 * connection waits. Called from the maintenance thread without the lock;
 * what it found sets when it looks next (manager.c). */
typedef enum {
  SS_PREFORK_LOOK_IDLE,       /* no place holder runs a request */
  SS_PREFORK_LOOK_BUSY,       /* some run one, none took another since the last look */
  SS_PREFORK_LOOK_PROGRESS,   /* some run one and requests are being taken */
  SS_PREFORK_LOOK_STALLED,    /* some are blocked: places are lent */
} SsPreforkLook;

SsPreforkLook ss__prefork_sentinel_look (SsPreforkingStrategy *self);

/* manager.c */
gboolean ss__prefork_manager_start (SsPreforkingStrategy *self, GError **error);
void ss__prefork_manager_stop (SsPreforkingStrategy *self);

/* child.c: runs a freshly forked child; never returns. */
G_GNUC_NORETURN void ss__prefork_child_main (SsPreforkingStrategy *self, guint slot, int control_fd);
/* The child's part of process_request. */
void ss__prefork_child_run (SsPreforkingStrategy *self, SsServer *server, SsRequest *request);
