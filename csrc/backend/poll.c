/*
 * backend/poll.c: readiness through poll(2), for any POSIX host. A dense
 * pollfd array holds the wake pipe and the watched fds only. A waiting
 * thread polls its own copy, taken under the mutex, so the owner can change
 * interest while it sleeps (and wakes it to re-copy).
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_POLL)

/* The backend's block: a dense pollfd array (entry 0 the wake pipe, then one
 * per watched slot) so poll(2) scans only what is watched, the waiter's copy
 * of it, the two maps between slots and dense entries, and a scratch list of
 * ready slots (dispatching may change the array, so it is read first). */
typedef struct poll_mem {
  uint32_t n; /* dense entries in use, the wake pipe included */
  uint32_t pad;
} poll_mem;

typedef struct ready_slot {
  uint32_t slot, revents;
} ready_slot;

#define B(l) (&(l)->bs.poll)
#define PM(l) ((poll_mem *)B(l)->mem)

static size_t poll_mem_size(uint32_t fd_cap) {
  return sizeof(poll_mem) + 2 * (fd_cap + 1) * sizeof(struct pollfd) +
         (fd_cap + 1) * sizeof(uint32_t) + fd_cap * sizeof(uint32_t) +
         fd_cap * sizeof(ready_slot);
}

static struct pollfd *waiter_copy(ario_loop *l) { return B(l)->pfd + l->fd_cap + 1; }
static uint32_t *dense_slot(ario_loop *l) { return (uint32_t *)(waiter_copy(l) + l->fd_cap + 1); }
static uint32_t *slot_dense(ario_loop *l) { return dense_slot(l) + l->fd_cap + 1; }
static ready_slot *ready_list(ario_loop *l) { return (ready_slot *)(slot_dense(l) + l->fd_cap); }

static int poll_init(ario_loop *l, void *mem) {
  ario__poll_state *b = B(l);
  b->mem = mem;
  b->pfd = (struct pollfd *)((char *)mem + sizeof(poll_mem));
  memset(slot_dense(l), 0, l->fd_cap * sizeof(uint32_t)); /* 0: not watched */
  int rc = ario__sys_wake_open(&b->wake_rd, &b->wake_wr);
  if (rc < 0) return rc;
  b->pfd[0].fd = b->wake_rd;
  b->pfd[0].events = POLLIN;
  PM(l)->n = 1;
  pthread_mutex_init(&b->mu, 0);
  return 0;
}

static void poll_deinit(ario_loop *l) {
  ario__sys_wake_close(B(l)->wake_rd, B(l)->wake_wr);
  pthread_mutex_destroy(&B(l)->mu);
}

static void poll_wake(ario_loop *l) { ario__sys_wake_send(B(l)->wake_wr); }

static int poll_watch(ario_loop *l, uint32_t slot, unsigned want) {
  uint32_t *sd = slot_dense(l);
  pthread_mutex_lock(&B(l)->mu);
  uint32_t d = sd[slot];
  if (!d) {
    d = PM(l)->n++;
    sd[slot] = d;
    dense_slot(l)[d] = slot;
  }
  B(l)->pfd[d].fd = l->fds[slot].fd;
  B(l)->pfd[d].events = (short)want;
  B(l)->pfd[d].revents = 0;
  pthread_mutex_unlock(&B(l)->mu);
  if (__atomic_load_n(&l->waiting, __ATOMIC_SEQ_CST)) poll_wake(l);
  return 0;
}

static void poll_forget(ario_loop *l, uint32_t slot) {
  uint32_t *sd = slot_dense(l), *ds = dense_slot(l);
  pthread_mutex_lock(&B(l)->mu);
  uint32_t d = sd[slot];
  if (d) {
    uint32_t last = --PM(l)->n; /* move the last entry into the hole */
    B(l)->pfd[d] = B(l)->pfd[last];
    ds[d] = ds[last];
    sd[ds[d]] = d;
    sd[slot] = 0;
  }
  pthread_mutex_unlock(&B(l)->mu);
  if (__atomic_load_n(&l->waiting, __ATOMIC_SEQ_CST)) poll_wake(l);
}

static void drain(ario_loop *l) { ario__sys_wake_drain(B(l)->wake_rd); }

static int poll_poll(ario_loop *l, int64_t timeout_ns) {
  struct pollfd *p = B(l)->pfd;
  uint32_t n_fds = PM(l)->n;
  int n = poll(p, n_fds, ario__ns_to_ms(timeout_ns));
  if (n < 0) return errno == EINTR ? 0 : -errno;
  if (p[0].revents && ario__owner_may_drain(l)) drain(l);
  ready_slot *ready = ready_list(l);
  uint32_t k = 0;
  for (uint32_t d = 1; d < n_fds; d++) {
    unsigned r = (unsigned)p[d].revents;
    if (!r) continue;
    p[d].revents = 0;
    ready[k].slot = dense_slot(l)[d];
    ready[k++].revents = r & POLLNVAL ? ARIO__POLL_NVAL /* not open: -EBADF */
                                      : r & (ARIO_POLL_IN | ARIO_POLL_PRI | ARIO_POLL_OUT |
                                             ARIO_POLL_ERR | ARIO_POLL_HUP);
  }
  for (uint32_t j = 0; j < k; j++) ario__fd_ready(l, ready[j].slot, ready[j].revents);
  return n;
}

static int poll_wait_ready(ario_loop *l, int64_t timeout_ns) {
  struct pollfd *c = waiter_copy(l);
  pthread_mutex_lock(&B(l)->mu);
  uint32_t n_fds = PM(l)->n;
  /* fd and events only: the owner's poll(2) writes revents without the
   * lock (a data race ThreadSanitizer reported with a whole-entry copy) */
  for (uint32_t d = 0; d < n_fds; d++) {
    c[d].fd = B(l)->pfd[d].fd;
    c[d].events = B(l)->pfd[d].events;
    c[d].revents = 0;
  }
  pthread_mutex_unlock(&B(l)->mu);
#if defined(__linux__)
  /* the doorbell thread sleeps to timer deadlines: wait to the nanosecond */
  struct timespec ts = {(time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000)};
  int n = ppoll(c, n_fds, timeout_ns < 0 ? 0 : &ts, 0);
#else
  int n = poll(c, n_fds, ario__ns_to_ms(timeout_ns));
#endif
  if (n < 0) return errno == EINTR ? 1 : -errno;
  if (n == 1 && c[0].revents) drain(l); /* a bare wake: re-copy next time */
  return n > 0;
}

const ario__backend ario__backend_poll = ARIO__READINESS_BACKEND(ARIO_BACKEND_POLL, poll);
#endif
