/*
 * backend/lwip_poll.c: readiness through lwIP's own lwip_poll(), for lwIP
 * builds without select (LWIP_SOCKET_SELECT 0, as Debian's liblwip 2.1.3,
 * the unix port, is built). Compiled with -DARIO_LWIP -DARIO_LWIP_POLL; the
 * same backend contract (ario__backend, ario_internal.h) as poll.c, which it
 * follows: a dense pollfd array, entry 0 the wake-up, then one per watched
 * fd slot. ario_wake() sends a byte on a UDP socket bound to 127.0.0.1 and
 * connected to itself (one of lwIP's sockets). No threads, no locks: the
 * loop belongs to one task (ario_wait() from another task polls its own
 * copy, but interest must not change meanwhile).
 *
 * Memory (the backend's share of the loop block, ARIO_BACKEND_MEM):
 * (fd_cap + 1) * (2 * sizeof(struct pollfd) + 2) bytes.
 *
 * lwIP's poll knows POLLIN, POLLOUT, POLLERR and POLLNVAL (no POLLHUP, no
 * POLLPRI): a closed peer reads as POLLIN (recv then returns 0).
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_LWIP) && defined(ARIO_LWIP_POLL)

typedef struct lp_mem {
  uint32_t n; /* dense entries in use, the wake-up included */
  uint32_t pad;
} lp_mem;

#define B(l) (&(l)->bs.lwip_poll)
#define LM(l) ((lp_mem *)B(l)->mem)
#define PFD(l) ((struct pollfd *)((char *)B(l)->mem + sizeof(lp_mem)))
#define COPY(l) (PFD(l) + (l)->fd_cap + 1)
#define DSLOT(l) ((uint16_t *)(COPY(l) + (l)->fd_cap + 1)) /* dense entry -> slot */

static size_t lp_mem_size(uint32_t fd_cap) {
  return sizeof(lp_mem) + (fd_cap + 1) * (2 * sizeof(struct pollfd) + sizeof(uint16_t));
}

static int lp_init(ario_loop *l, void *mem) {
  B(l)->mem = mem;
  int wake_wr, rc = ario__sys_wake_open(&B(l)->wake, &wake_wr);
  if (rc < 0) return rc; /* a UDP socket: one descriptor, wake_wr == wake */
  PFD(l)[0].fd = B(l)->wake;
  PFD(l)[0].events = POLLIN;
  PFD(l)[0].revents = 0;
  LM(l)->n = 1;
  return 0;
}

static void lp_deinit(ario_loop *l) { ario__sys_wake_close(B(l)->wake, B(l)->wake); }

static void lp_wake(ario_loop *l) { ario__sys_wake_send(B(l)->wake); }

static void drain(ario_loop *l) { ario__sys_wake_drain(B(l)->wake); }

static short to_poll(unsigned want) {
  short e = 0;
  if (want & ARIO_POLL_IN) e |= POLLIN;
  if (want & ARIO_POLL_OUT) e |= POLLOUT;
  return e; /* errors are always reported; lwIP has no POLLPRI */
}

static uint32_t find(ario_loop *l, uint32_t slot) {
  uint16_t *ds = DSLOT(l);
  for (uint32_t d = 1; d < LM(l)->n; d++)
    if (ds[d] == slot) return d;
  return 0;
}

static int lp_watch(ario_loop *l, uint32_t slot, unsigned want) {
  uint32_t d = find(l, slot);
  if (!d) {
    d = LM(l)->n++;
    DSLOT(l)[d] = (uint16_t)slot;
    PFD(l)[d].revents = 0;
  }
  PFD(l)[d].fd = l->fds[slot].fd;
  PFD(l)[d].events = to_poll(want);
  if (ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST)) lp_wake(l);
  return 0;
}

static void lp_forget(ario_loop *l, uint32_t slot) {
  uint32_t d = find(l, slot);
  if (!d) return;
  uint32_t last = --LM(l)->n; /* move the last entry into the hole */
  PFD(l)[d] = PFD(l)[last];
  DSLOT(l)[d] = DSLOT(l)[last];
  if (ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST)) lp_wake(l);
}

static unsigned from_poll(short r) {
  if (r & POLLNVAL) return ARIO__POLL_NVAL; /* not open: -EBADF */
  unsigned v = 0;
  if (r & POLLIN) v |= ARIO_POLL_IN;
  if (r & POLLOUT) v |= ARIO_POLL_OUT;
  if (r & POLLERR) v |= ARIO_POLL_ERR;
#if defined(POLLHUP)
  if (r & POLLHUP) v |= ARIO_POLL_HUP;
#endif
  return v;
}

static int lp_poll(ario_loop *l, int64_t timeout_ns) {
  struct pollfd *p = PFD(l);
  ARIO__LWIP_BEFORE_WAIT(l, timeout_ns);
  int n = poll(p, (nfds_t)LM(l)->n, ario__ns_to_ms(timeout_ns));
  if (n < 0) return errno == EINTR ? 0 : -errno;
  if (p[0].revents) {
    p[0].revents = 0;
    if (ario__owner_may_drain(l)) drain(l);
  }
  /* Highest entry first, dispatched in place: a forget moves the last
   * entry (already seen, revents cleared) into its hole, and a new watch
   * appends beyond what is left to see. */
  for (uint32_t d = LM(l)->n; d-- > 1;) {
    if (d >= LM(l)->n) continue;
    short r = p[d].revents;
    if (!r) continue;
    p[d].revents = 0;
    unsigned v = from_poll(r);
    if (v) ario__fd_ready(l, DSLOT(l)[d], v);
  }
  return n;
}

static int lp_wait_ready(ario_loop *l, int64_t timeout_ns) {
  struct pollfd *c = COPY(l);
  uint32_t n_fds = LM(l)->n;
  for (uint32_t d = 0; d < n_fds; d++) {
    c[d].fd = PFD(l)[d].fd;
    c[d].events = PFD(l)[d].events;
    c[d].revents = 0;
  }
  int n = poll(c, (nfds_t)n_fds, ario__ns_to_ms(timeout_ns));
  if (n < 0) return errno == EINTR ? 1 : -errno;
  if (n == 1 && c[0].revents) drain(l);
  return n > 0;
}

const ario__backend ario__backend_poll = ARIO__READINESS_BACKEND(ARIO_BACKEND_POLL, lp);
#endif
