/*
 * backend/select.c: readiness through select(2), for small targets (lwIP /
 * ESP-IDF) and any POSIX host. Fixed capacity: descriptors below
 * ARIO_SELECT_MAX_FD (FD_SETSIZE by default), a compile-time constant; the
 * fd_sets live in the loop's memory block (no heap). ario_wake() goes
 * through a self-pipe (a loopback UDP socket connected to itself on lwIP,
 * which has no pipes). A waiting thread selects on its own copy of the
 * sets, taken under the mutex, as the poll backend does.
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_SELECT)
#define B(l) (&(l)->bs.select)
#if defined(ARIO_HOST)
#include <sys/select.h>
#include <sys/time.h>
#define LOCK(l) pthread_mutex_lock(&B(l)->mu)
#define UNLOCK(l) pthread_mutex_unlock(&B(l)->mu)
#else
#define LOCK(l) ((void)0)
#define UNLOCK(l) ((void)0)
#endif

#if ARIO_SELECT_MAX_FD > 0 && ARIO_SELECT_MAX_FD < FD_SETSIZE
#define MAX_FD ARIO_SELECT_MAX_FD
#else
#define MAX_FD FD_SETSIZE
#endif

typedef struct sel {
  fd_set rd, wr, ex;    /* interest */
  fd_set ord, owr, oex; /* the owner's result sets */
  fd_set wrd, wwr, wex; /* the waiter's copies */
  int maxfd;            /* highest descriptor in the interest sets, or -1 */
} sel;

static sel *S(ario_loop *l) { return (sel *)B(l)->sets; }

static size_t select_mem_size(uint32_t fd_cap) {
  (void)fd_cap;
  return sizeof(sel);
}

static int select_init(ario_loop *l, void *mem) {
  sel *t = (sel *)mem;
  B(l)->sets = t;
  FD_ZERO(&t->rd);
  FD_ZERO(&t->wr);
  FD_ZERO(&t->ex);
  t->maxfd = -1;
  int rc = ario__sys_wake_open(&B(l)->wake_rd, &B(l)->wake_wr);
  if (rc < 0) return rc;
  if (B(l)->wake_rd >= MAX_FD) {
    ario__sys_wake_close(B(l)->wake_rd, B(l)->wake_wr);
    return -EMFILE;
  }
#if defined(ARIO_HOST)
  pthread_mutex_init(&B(l)->mu, 0);
#endif
  return 0;
}

static void select_deinit(ario_loop *l) {
  ario__sys_wake_close(B(l)->wake_rd, B(l)->wake_wr);
#if defined(ARIO_HOST)
  pthread_mutex_destroy(&B(l)->mu);
#endif
}

static void select_wake(ario_loop *l) { ario__sys_wake_send(B(l)->wake_wr); }

static void drain(ario_loop *l) { ario__sys_wake_drain(B(l)->wake_rd); }

static int fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0 || errno != EBADF; }

static int select_watch(ario_loop *l, uint32_t slot, unsigned want) {
  sel *t = S(l);
  int fd = l->fds[slot].fd;
  /* beyond the fixed capacity of the sets: -EBADF if not open at all (as
   * elsewhere), else -EMFILE (this backend cannot watch that number) */
  if (fd < 0 || fd >= MAX_FD) return fd >= 0 && fd_open(fd) ? -EMFILE : -EBADF;
  /* Linux's select() ignores bits beyond the process's descriptor table
   * (256 slots at first) instead of failing with EBADF: a closed number
   * there would never report. Check when interest is added. */
  if (want && !fd_open(fd)) return -EBADF;
  LOCK(l);
  if (want & ARIO_POLL_IN) FD_SET(fd, &t->rd); else FD_CLR(fd, &t->rd);
  if (want & ARIO_POLL_OUT) FD_SET(fd, &t->wr); else FD_CLR(fd, &t->wr);
  if (want & ARIO_POLL_PRI) FD_SET(fd, &t->ex); else FD_CLR(fd, &t->ex);
  if (want && fd > t->maxfd) t->maxfd = fd;
  UNLOCK(l);
  if (ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST)) select_wake(l);
  return 0;
}

static void select_forget(ario_loop *l, uint32_t slot) {
  sel *t = S(l);
  int fd = l->fds[slot].fd;
  if (fd < 0 || fd >= MAX_FD) return;
  LOCK(l);
  FD_CLR(fd, &t->rd);
  FD_CLR(fd, &t->wr);
  FD_CLR(fd, &t->ex);
  while (t->maxfd >= 0 && !FD_ISSET(t->maxfd, &t->rd) &&
         !FD_ISSET(t->maxfd, &t->wr) && !FD_ISSET(t->maxfd, &t->ex))
    t->maxfd--;
  UNLOCK(l);
}

static struct timeval *to_tv(struct timeval *tv, int64_t ns) {
  if (ns < 0) return 0;
  int64_t us = (ns + 999) / 1000; /* never wake before the deadline */
  tv->tv_sec = (time_t)(us / 1000000);
  tv->tv_usec = (long)(us % 1000000);
  return tv;
}

/* Copies the interest sets (plus the wake descriptor) under the lock. */
static int snapshot(ario_loop *l, fd_set *r, fd_set *w, fd_set *e) {
  sel *t = S(l);
  LOCK(l);
  *r = t->rd;
  *w = t->wr;
  *e = t->ex;
  int n = t->maxfd;
  UNLOCK(l);
  FD_SET(B(l)->wake_rd, r);
  return (n > B(l)->wake_rd ? n : B(l)->wake_rd) + 1;
}

static int select_poll(ario_loop *l, int64_t timeout_ns) {
  sel *t = S(l);
  struct timeval tv;
  int nfds = snapshot(l, &t->ord, &t->owr, &t->oex);
  ARIO__LWIP_BEFORE_WAIT(l, timeout_ns); /* sys.h: ARIO_LWIP_WAIT_HOOK */
  int n = select(nfds, &t->ord, &t->owr, &t->oex, to_tv(&tv, timeout_ns));
  if (n < 0) {
    if (errno == EINTR) return 0;
    if (errno != EBADF) return -errno;
    /* a watched descriptor is not open (closed before or behind our back):
     * its waiters fail with -EBADF, as on every other backend (poll's
     * POLLNVAL). Completing may move a later slot into this one. */
    for (uint32_t s = 0; s < l->fd_cap;) {
      int fd = l->fds[s].fd;
      if (fd >= 0 && fd < MAX_FD && l->fds[s].armed && !fd_open(fd)) {
        ario__fd_ready(l, s, ARIO__POLL_NVAL);
        if (l->fds[s].fd != fd) continue; /* look at what moved here */
      }
      s++;
    }
    return 0;
  }
  if (FD_ISSET(B(l)->wake_rd, &t->ord)) {
    n--;
    if (ario__owner_may_drain(l)) drain(l);
  }
  /* By descriptor number, up to the highest watched: the slot table is
   * 2 * entries wide and mostly empty, and walking it cost more than the
   * rest of a round trip (16 384 entries: 100 us against 50). */
  for (int fd = 0; fd < nfds && n > 0; fd++) {
    if (fd == B(l)->wake_rd) continue; /* counted above */
    unsigned r = 0;
    if (FD_ISSET(fd, &t->ord)) r |= ARIO_POLL_IN, n--;
    if (FD_ISSET(fd, &t->owr)) r |= ARIO_POLL_OUT, n--;
    int ex = FD_ISSET(fd, &t->oex);
    if (ex) n--;
    if (!r && !ex) continue;
    uint32_t s = ario__fd_slot(l, fd);
    if (s == ARIO_NIL || !l->fds[s].armed) continue;
    if (ex) r |= (l->fds[s].armed & ARIO_POLL_PRI) ? ARIO_POLL_PRI : ARIO_POLL_ERR;
    ario__fd_ready(l, s, r);
  }
  return n;
}

static int select_wait_ready(ario_loop *l, int64_t timeout_ns) {
  sel *t = S(l);
  struct timeval tv;
  int nfds = snapshot(l, &t->wrd, &t->wwr, &t->wex);
  int n = select(nfds, &t->wrd, &t->wwr, &t->wex, to_tv(&tv, timeout_ns));
  if (n < 0) return errno == EINTR || errno == EBADF ? 1 : -errno;
  if (n == 1 && FD_ISSET(B(l)->wake_rd, &t->wrd)) drain(l);
  return n > 0;
}

const ario__backend ario__backend_select = ARIO__READINESS_BACKEND(ARIO_BACKEND_SELECT, select);
#endif
