/*
 * ario_internal.h: what the core, the backends and the platform layer share.
 * Not installed; the public contract is include/ario.h.
 */
#ifndef ARIO_INTERNAL_H
#define ARIO_INTERNAL_H

#include "ario.h"
#include "platform.h"

#if defined(ARIO_SMALL) /* MCU: see platform.h */
#define ARIO_NIL 0xFFu
typedef uint8_t ario__idx;
typedef int16_t ario__fdnum;
#define ARIO_MAX_ENTRIES ARIO_ENTRIES_MAX /* 128: op and fd-slot indexes stay below ARIO_NIL */
#define ARIO_FD_MAX 0x7FFF
#define ARIO_FD_SLOTS(slots) (slots) /* a full table is handled */
#else
#define ARIO_NIL 0xFFFFu
typedef uint16_t ario__idx;
typedef int32_t ario__fdnum;
#define ARIO_MAX_ENTRIES ARIO_ENTRIES_MAX /* slots (+ reserved) stay below 0xFFFF */
#define ARIO_FD_SLOTS(slots) ((slots) * 2u)
#endif

/* One completion in the ring: the op, its result, its ARIO_CQE_F_* flags
 * (MORE: a multishot op goes on, in its slot) and, with
 * ARIO_CQE_F_BUFFER, the provided buffer it filled. */
typedef struct ario__cqent {
  int32_t res;
  ario__idx idx;
  uint8_t flags; /* (before bid: 8 bytes with a 1-byte idx) */
  uint16_t bid;
} ario__cqent;

/* A provided-buffer group (bufring.c; ario.h's ario_buffers_register). */
typedef struct ario__bufgroup {
  ario_buf *ring;  /* 0: not registered */
  uint16_t mask;   /* entries - 1 */
  uint16_t head;   /* readiness backends: the next entry RECV_MULTI takes */
  uint16_t users;  /* RECV_MULTI ops holding a slot on it (unregister: -EBUSY) */
} ario__bufgroup;

/* Op states. */
enum {
  ARIO__FREE = 0,
  ARIO__QUEUED,  /* consumed, waiting for the op before it in its chain */
  ARIO__WAITING, /* waiting for its fd to become ready */
  ARIO__TIMER,   /* TIMEOUT or LINK_TIMEOUT armed in the timer heap */
  ARIO__DONE,    /* completed, its entry sits in the completion ring */
  ARIO__POOL     /* a file pool job (pool.c), or a CLOSE waiting for one */
};

/* One in-flight op. Addresses are native pointers here (4 bytes on a
 * 32-bit MCU), which keeps the table small there. */
/* SPLICE and TEE: ops on two fds, fd_out in fd and fd_in in addr; CLOSE and
 * CANCEL by fd find them by either. */
#define ARIO__TWO_FDS(op) ((op) == ARIO_OP_SPLICE || (op) == ARIO_OP_TEE)

typedef struct ario__op {
  uint64_t user_data;
  uint64_t off;   /* offset, address length, cancel key; deadline for timers */
  uintptr_t addr; /* buffer or sockaddr */
  uintptr_t addr2;
  uint32_t len;   /* length; target sequence for counted timeouts */
  uint32_t op_flags;
  int32_t fd;
  int32_t res;    /* result once DONE; bytes done so far for MSG_WAITALL;
                   * the ARIO_POLL_* side a waiting SPLICE or TEE needs */
  ario__idx next; /* free list, fd wait list */
  ario__idx link; /* next op of the chain, or ARIO_NIL */
  ario__idx pos;  /* heap position (timers) or fd slot (waiting ops) */
  uint8_t op;
  uint8_t flags;  /* ARIO_SQE_* */
  uint8_t state;
  uint8_t events; /* ARIO_POLL_* the op waits for */
#if !defined(ARIO_SMALL)
  uint16_t pad;
#endif
} ario__op;

/* A descriptor with ops waiting on it. */
typedef struct ario__fd {
  ario__fdnum fd; /* -1: empty slot */
  ario__idx head; /* FIFO of waiting ops */
  ario__idx tail;
  uint8_t want;   /* union of the waiters' events */
  uint8_t armed;  /* events registered with the backend */
  uint8_t known;  /* registered with the backend at all (epoll ADD done) */
  uint8_t pad;
} ario__fd;

/* A backend, of one of two kinds (as libxev's): a readiness backend
 * (epoll, kqueue, poll, select, Windows) reports ready descriptors and the
 * core runs each op itself; a completion backend (io_uring) is handed
 * whole chains and posts their results. Both have the common half; the
 * union holds the kind's own. poll() and wait() take a timeout in ns,
 * <0 = none. */
typedef struct ario__backend {
  uint8_t id;
  uint8_t completion; /* 1: a completion backend (the union's second half) */
  size_t (*mem_size)(uint32_t fd_cap);
  int (*init)(ario_loop *l, void *mem);
  void (*deinit)(ario_loop *l);
  /* Waits up to timeout_ns; reports ready slots through ario__fd_ready
   * (readiness) or finished ops through ario__post (completion). */
  int (*poll)(ario_loop *l, int64_t timeout_ns);
  /* From another thread: blocks until poll() would find something. */
  int (*wait)(ario_loop *l, int64_t timeout_ns);
  void (*wake)(ario_loop *l);
  /* Used instead when init() fails and the backend was not asked for by
   * name (io_uring blocked by seccomp or sysctl: epoll). */
  const struct ario__backend *fallback;
  union {
    struct { /* readiness */
      /* Interest of fd slot `slot` changes from fd->armed to `want` (0 =
       * none). Returns 0 or -errno; on error the waiters fail with it. */
      int (*watch)(ario_loop *l, uint32_t slot, unsigned want);
      /* The fd in `slot` is being closed or forgotten. */
      void (*forget)(ario_loop *l, uint32_t slot);
    };
    struct { /* completion */
      /* The core validates a chain and takes its slots, then hands it over
       * whole (ops joined by ->link, from head); the backend later reports
       * each op through ario__post(), from poll(). Returns 0 or -errno (the
       * core then fails the chain). */
      int (*submit)(ario_loop *l, ario__idx head);
      /* End of ario_submit(): pushes what submit() queued (one syscall). */
      void (*flush)(ario_loop *l);
      /* ario_close(): cancels every op on fd before it is closed. */
      void (*cancel_fd)(ario_loop *l, int32_t fd);
      /* Registers (entries > 0) or unregisters a provided-buffer ring. */
      int (*buffers)(ario_loop *l, uint32_t group, ario_buf *ring, uint32_t entries);
    };
  };
} ario__backend;

/* A readiness backend's table, from its functions named <prefix>_mem_size,
 * _init, _deinit, _poll, _wait_ready, _wake, _watch and _forget. */
#define ARIO__READINESS_BACKEND(backend_id, prefix)                            \
  {                                                                            \
    .id = backend_id, .mem_size = prefix##_mem_size, .init = prefix##_init,    \
    .deinit = prefix##_deinit, .poll = prefix##_poll,                          \
    .wait = prefix##_wait_ready, .wake = prefix##_wake,                        \
    .watch = prefix##_watch, .forget = prefix##_forget,                        \
  }

/* Whether the loop runs a completion backend; a constant 0 in builds that
 * have none (every MCU build), so their core carries no completion path. */
#if defined(ARIO_HAVE_IO_URING)
#define ARIO__COMPLETES(l) ((l)->be->completion)
#else
#define ARIO__COMPLETES(l) 0
#endif

/* Each backend's own state in the loop, one member per backend this build
 * has (platform.h's ARIO_HAVE_*), owned by backend/<name>.c; the rest of its
 * memory is its block of the loop's memory (mem_size). `mem` is that block. */
#if defined(ARIO_HAVE_IO_URING)
typedef struct ario__io_uring_state {
  void *mem; /* the ring's bookkeeping (backend/io_uring.c) */
  int wake;  /* eventfd: ario_wake() */
} ario__io_uring_state;
#endif
#if defined(ARIO_HAVE_EPOLL)
typedef struct ario__epoll_state {
  int epfd;
  int wake; /* eventfd in the set: ario_wake() */
} ario__epoll_state;
#endif
#if defined(ARIO_HAVE_KQUEUE)
typedef struct ario__kqueue_state {
  int kq; /* ario_wake() is an EVFILT_USER event on it */
} ario__kqueue_state;
#endif
#if defined(ARIO_HAVE_POLL) && defined(ARIO_HOST)
typedef struct ario__poll_state {
  void *mem;          /* entry count, then the arrays (backend/poll.c) */
  struct pollfd *pfd; /* the dense array of watched fds, wake pipe first */
  int wake_rd, wake_wr;
  pthread_mutex_t mu; /* guards pfd against a waiting thread */
} ario__poll_state;
#endif
#if defined(ARIO_LWIP) && defined(ARIO_LWIP_POLL)
typedef struct ario__lwip_poll_state {
  void *mem; /* entry count, then the pollfd arrays (backend/lwip_poll.c) */
  int wake;  /* UDP socket connected to itself: ario_wake() */
} ario__lwip_poll_state;
#endif
#if defined(ARIO_HAVE_SELECT)
typedef struct ario__select_state {
  void *sets;           /* the fd_sets (backend/select.c) */
  int wake_rd, wake_wr; /* a pipe; on lwIP one UDP socket connected to itself */
#if defined(ARIO_HOST)
  pthread_mutex_t mu; /* guards the interest sets against a waiting thread */
#endif
} ario__select_state;
#endif
#if defined(ARIO_HAVE_WINDOWS)
typedef struct ario__windows_state {
  WSAPOLLFD *pfd;      /* one entry per fd slot (INVALID_SOCKET: unused), then the wake-up */
  int wake;            /* loopback UDP socket connected to itself */
  CRITICAL_SECTION mu; /* guards pfd against a waiting thread */
} ario__windows_state;
#endif

typedef union ario__backend_state {
#if defined(ARIO_HAVE_IO_URING)
  ario__io_uring_state io_uring;
#endif
#if defined(ARIO_HAVE_EPOLL)
  ario__epoll_state epoll;
#endif
#if defined(ARIO_HAVE_KQUEUE)
  ario__kqueue_state kqueue;
#endif
#if defined(ARIO_HAVE_POLL) && defined(ARIO_HOST)
  ario__poll_state poll; /* also the sim backend's, which runs poll's */
#endif
#if defined(ARIO_LWIP) && defined(ARIO_LWIP_POLL)
  ario__lwip_poll_state lwip_poll;
#endif
#if defined(ARIO_HAVE_SELECT)
  ario__select_state select;
#endif
#if defined(ARIO_HAVE_WINDOWS)
  ario__windows_state windows;
#endif
  unsigned char none; /* ARIO_BARE: the firmware's backend keeps its own */
} ario__backend_state;

/* The doorbell thread's state (bell.c): hosts with threads. */
#if defined(ARIO_HOST) && defined(_WIN32)
typedef struct ario__bell_state { /* the POSIX one in Win32 terms */
  HANDLE thread;
  SRWLOCK mu;
  CONDITION_VARIABLE cv;
  void (*bell)(void);
  int running;
  int armed;
  int stopping;
  int in_bell;
} ario__bell_state;
#elif defined(ARIO_HOST)
typedef struct ario__bell_state {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  void (*bell)(void);
  int running;  /* thread started */
  int armed;    /* owner asked for a ring */
  int stopping;
  int in_bell;  /* thread is inside bell() */
} ario__bell_state;
#else
typedef struct ario__bell_state {
  int unused; /* no doorbell thread: MCU builds */
} ario__bell_state;
#endif

/* The file pool (pool.c): POSIX hosts. Jobs are op slots, chained through
 * ->next; `mu` guards the queue, the done list and `busy`. */
#if defined(ARIO_HOST) && !defined(_WIN32)
#define ARIO_HAVE_POOL 1
typedef struct ario__pool_state {
  pthread_mutex_t mu;
  pthread_cond_t cv;       /* a job was queued, or the pool stops */
  pthread_cond_t finished; /* a thread finished its job */
  pthread_t thread[ARIO_POOL_THREADS];
  ario__idx busy[ARIO_POOL_THREADS]; /* the job each thread runs, ARIO_NIL: none */
  ario__idx queue_head, queue_tail;  /* jobs no thread took yet */
  ario__idx done_head, done_tail;    /* finished jobs, res set, for the owner */
  ario__idx closes;                  /* owner only: CLOSE ops deferred */
  uint32_t queued, idle;             /* jobs queued; threads waiting for one */
  uint8_t threads, claimed, stopping;
  uint8_t ready;                     /* owner only: mu and cv initialised */
} ario__pool_state;
#else
typedef struct ario__pool_state {
  int unused;
} ario__pool_state;
#endif

/* The op table: `entries` plus the slots only CANCEL and CLOSE may take. */
#define ARIO__SLOTS(l) ((l)->entries + ARIO_RESERVED_SLOTS)

struct ario_loop {
  const ario__backend *be;
  uint32_t entries;  /* op capacity (CANCEL and CLOSE have ARIO_RESERVED_SLOTS more) */
  uint32_t fd_cap;   /* fd table slots, power of two */
  uint32_t ring_cap; /* completion ring, power of two */
  ario__op *ops;
  ario__fd *fds;
  ario__cqent *ring;
  ario__idx *heap;
  uint32_t ring_head, ring_tail;
  uint32_t heap_len;
  uint32_t fd_used;
  uint32_t free_head;
  uint32_t inflight;
  uint32_t cq_seq;          /* completions posted, for counted timeouts */
  uint32_t counted_timeouts;
  int64_t deadline;         /* earliest timer, INT64_MAX if none; read by waiters */
#if defined(ARIO_HOST) /* the doorbell's (bell.c): MCU loops stay within ARIO_MEM_LOOP_BYTES */
  int64_t timer_lead;       /* ario_wait() returns this long before `deadline` */
#define ARIO__TIMER_LEAD(l) ((l)->timer_lead)
#else
#define ARIO__TIMER_LEAD(l) 0
#endif
  int waiting;              /* a thread sleeps in ario_wait() */
  ario__idx run_head;        /* ops whose turn came while one was starting */
  ario__idx run_tail;
  ario__idx special;         /* CANCEL and CLOSE ops in flight (see ario_submit) */
  ario__idx splices;         /* SPLICE and TEE ops in flight (ario__drop_fd) */
  ario__idx mores;           /* ARIO_CQE_F_MORE entries in the ring (< ring_cap) */
  ario__bufgroup groups[ARIO_BUFFER_GROUPS]; /* provided buffers (bufring.c) */
  uint8_t starting;          /* inside start(): later starts queue (bounded stack) */
  ario__backend_state bs;   /* the running backend's own state (above) */
  ario__bell_state bell;    /* doorbell thread (above) */
#if defined(ARIO_HAVE_POOL)
  ario__pool_state pool;    /* file pool (above) */
#endif
};

#if defined(ARIO_MEM_SIZE) /* the bound ario.h gives static loops holds */
_Static_assert(sizeof(struct ario_loop) <= ARIO_MEM_LOOP_BYTES, "raise ARIO_MEM_LOOP_BYTES");
_Static_assert(sizeof(ario__op) <= ARIO_MEM_OP_BYTES, "raise ARIO_MEM_OP_BYTES");
_Static_assert(sizeof(ario__fd) <= ARIO_MEM_FD_BYTES, "raise ARIO_MEM_FD_BYTES");
_Static_assert(sizeof(ario__idx) == 1, "ARIO_MEM_SIZE counts 1-byte indexes");
_Static_assert(sizeof(ario__cqent) <= ARIO_MEM_CQE_BYTES, "raise ARIO_MEM_CQE_BYTES");
#endif

/* Core entry points for the backends. revents are ARIO_POLL_* bits, or
 * ARIO__POLL_NVAL alone: the descriptor is not open (poll's POLLNVAL,
 * select's EBADF), and every op waiting on it completes with -EBADF, as
 * io_uring and epoll report it. */
#define ARIO__POLL_NVAL 0x20u
void ario__fd_ready(ario_loop *l, uint32_t slot, unsigned revents);
/* The fd table slot of descriptor `fd`, or ARIO_NIL if it has none. */
uint32_t ario__fd_slot(const ario_loop *l, int32_t fd);
/* Whether the owner's poll may consume a wake-up. Not while a thread
 * sleeps in ario_wait(): the wake may be the one telling it of an earlier
 * deadline, and a drained wake-up is lost to a poll that already started
 * (it re-checks readiness, finds none and sleeps on with a stale bound).
 * The waiter's return clears `waiting`; the next owner poll drains. */
static inline int ario__owner_may_drain(const ario_loop *l) {
  return !ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST);
}

/* Pending completions, so a waiter must not sleep. */
static inline int ario__has_cqe(const ario_loop *l) {
  return ARIO_LOAD(&l->ring_head, __ATOMIC_RELAXED) !=
         ARIO_LOAD(&l->ring_tail, __ATOMIC_ACQUIRE);
}

/* Queues a completion of op i. The tail is published with release order: a
 * thread in ario_wait() reads it (ario__has_cqe). */
static inline void ario__push_ring(ario_loop *l, ario__idx i, int32_t res, uint32_t cflags) {
  uint32_t t = l->ring_tail;
  ario__cqent *c = &l->ring[t & (l->ring_cap - 1)];
  c->res = res;
  c->idx = i;
  c->flags = (uint8_t)cflags;
  c->bid = (uint16_t)(cflags >> ARIO_CQE_BUFFER_SHIFT);
  ARIO_STORE(&l->ring_tail, t + 1, __ATOMIC_RELEASE);
}

/* Completion backends: op i finished with res (its chain is the kernel's
 * business); queues its completion for ario_reap(). cflags: its
 * ARIO_CQE_F_BUFFER and buffer id, if any. */
static inline void ario__post(ario_loop *l, ario__idx i, int32_t res, uint32_t cflags) {
  ario__op *op = &l->ops[i];
  op->res = res;
  op->state = ARIO__DONE;
  op->link = ARIO_NIL;
  ario__push_ring(l, i, res, cflags);
}

/* A multishot op's completion that is not its last (ARIO_CQE_F_MORE).
 * Room is kept for every in-flight op's last completion, so one may be
 * posted only while ario__more_room(); the op waits (readiness) or the
 * CQ is left unread (io_uring) until the owner reaps. The ring holds one
 * entry more than the slots, so an empty ring always has room. Counted
 * timeouts see it at the next reap (a TIMEOUT completing here could start
 * ops inside the backend's dispatch). */
static inline int ario__more_room(const ario_loop *l) {
  return l->mores + l->inflight < l->ring_cap;
}
static inline void ario__post_more(ario_loop *l, ario__idx i, int32_t res, uint32_t cflags) {
  l->mores++;
  l->cq_seq++;
  ario__push_ring(l, i, res, cflags | ARIO_CQE_F_MORE);
}

/* Provided buffers (bufring.c). ario__buffers_use: op takes (+1) or gives
 * back (-1) its slot; a RECV_MULTI holds its group. ario__buffers_next:
 * the entry a readiness backend's RECV_MULTI fills next, or 0 (ring
 * empty, group not registered); ario__buffers_taken: it was filled. */
void ario__buffers_use(ario_loop *l, const ario__op *op, int delta);
const ario_buf *ario__buffers_next(ario_loop *l, uint32_t group);
void ario__buffers_taken(ario_loop *l, uint32_t group);

/* Completes every op waiting on fd with -ECANCELED and forgets the fd. */
void ario__drop_fd(ario_loop *l, int32_t fd);

/* The backend a loop with these parameters runs, or 0 if this build has
 * none of that id (backends.c); *named: it was asked for by name, so no
 * silent fallback. */
const ario__backend *ario__backend_for(const ario_params *p, int *named);

/* Validates one submission entry (validate.c): 0, or the -errno it
 * completes with. prev: the entry before it in its chain, or 0. */
int32_t ario__validate(const ario_sqe *e, const ario_sqe *prev);
/* Bytes of an ario_iovec array of n entries in all (validate.c). */
uint64_t ario__iov_total(uint64_t iov, uint64_t n);

/* Non-blocking attempt of an op on its fd: returns the result, or
 * -EAGAIN to keep waiting (platform layer, ops.c). */
int32_t ario__try_io(ario_loop *l, ario__op *op, unsigned revents);

/* The single place an op completes (ario.c): drives its chain. */
void ario__complete(ario_loop *l, ario__idx i, int32_t res);

/* The file pool (pool.c; readiness backends). ario__pool_takes: whether op
 * i runs there (OPENAT, FSYNC; READ/WRITE on a file). ario__pool_start:
 * queues it (0) or says why not (-errno). ario__pool_stop: cancels queued
 * jobs, joins the threads (ario_deinit). ario__pool_reap: completes the
 * finished jobs (ario_reap). ario__pool_unqueue: 0 if job i was still
 * queued (now removed), -EALREADY if a thread runs it. ario__pool_drop_fd:
 * cancels the queued jobs on fd. ario__pool_defer_close: 1 if CLOSE op i
 * waits for a running job on fd (it completes later). ario__pool_wait_fd:
 * returns once no thread runs a job on fd (ario_close). */
#if defined(ARIO_HAVE_POOL)
int ario__pool_takes(ario_loop *l, const ario__op *op);
int32_t ario__pool_start(ario_loop *l, ario__idx i);
void ario__pool_stop(ario_loop *l);
void ario__pool_reap(ario_loop *l);
int ario__pool_unqueue(ario_loop *l, ario__idx i);
void ario__pool_drop_fd(ario_loop *l, int32_t fd);
int ario__pool_defer_close(ario_loop *l, ario__idx i, int32_t fd);
void ario__pool_wait_fd(ario_loop *l, int32_t fd);
#else
#define ario__pool_takes(l, op) 0
#define ario__pool_start(l, i) (-EOPNOTSUPP)
#define ario__pool_stop(l) ((void)0)
#define ario__pool_reap(l) ((void)0)
#define ario__pool_unqueue(l, i) (-EALREADY)
#define ario__pool_drop_fd(l, fd) ((void)0)
#define ario__pool_defer_close(l, i, fd) 0
#define ario__pool_wait_fd(l, fd) ((void)0)
#endif

extern const ario__backend ario__backend_io_uring;
extern const ario__backend ario__backend_epoll;
extern const ario__backend ario__backend_poll;
extern const ario__backend ario__backend_select;
extern const ario__backend ario__backend_kqueue;
extern const ario__backend ario__backend_windows;
extern const ario__backend ario__backend_bare; /* ARIO_BARE: the firmware supplies it */

/* The simulation backend (backend/sim.c): the poll backend under a seeded
 * PRNG, host builds only. Its hooks: ario__fd_ready() hands it readiness
 * first (it reorders, delays, adds); ops.c lets it shape each attempt
 * (`attempt` is the real one) and asks it whether a syscall is
 * interrupted; ario_submit() asks it how much room the table offers. */
#if defined(ARIO_HOST) && defined(ARIO_HAVE_POLL) && !defined(_WIN32)
#define ARIO_HAVE_SIM 1
extern const ario__backend ario__backend_sim;
int ario__sim_collect(ario_loop *l, uint32_t slot, unsigned revents);
int32_t ario__sim_try_io(ario_loop *l, ario__op *op, unsigned revents,
                         int32_t (*attempt)(ario_loop *, ario__op *, unsigned));
int ario__sim_eintr(ario_loop *l);
uint32_t ario__sim_room(ario_loop *l, uint32_t room, uint32_t need);
#define ARIO__IS_SIM(l) ((l)->be->id == ARIO_BACKEND_SIM)
#else
#define ARIO__IS_SIM(l) 0
#endif

#endif
