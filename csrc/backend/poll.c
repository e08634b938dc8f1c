/*
 * backend/poll.c: readiness through poll(2), for any POSIX host. One
 * pollfd per fd-table slot (fd -1 when unused) plus the wake pipe at the
 * end. A waiting thread polls its own copy, taken under the mutex, so the
 * owner can change interest while it sleeps (and wakes it to re-copy).
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_POLL)

static size_t poll_mem_size(uint32_t fd_cap) {
  return 2 * (fd_cap + 1) * sizeof(struct pollfd);
}

static struct pollfd *waiter_copy(ario_loop *l) { return l->bs.pfd + l->fd_cap + 1; }

static int poll_init(ario_loop *l, void *mem) {
  ario__backend_state *b = &l->bs;
  int p[2];
  b->pfd = (struct pollfd *)mem;
  for (uint32_t i = 0; i < l->fd_cap; i++) {
    b->pfd[i].fd = -1;
    b->pfd[i].events = 0;
  }
  if (pipe(p) < 0) return -errno;
  ario__sys_prepare_fd(p[0]);
  ario__sys_prepare_fd(p[1]);
  b->wake_rd = p[0];
  b->wake_wr = p[1];
  b->pfd[l->fd_cap].fd = p[0];
  b->pfd[l->fd_cap].events = POLLIN;
  pthread_mutex_init(&b->mu, 0);
  return 0;
}

static void poll_deinit(ario_loop *l) {
  close(l->bs.wake_rd);
  close(l->bs.wake_wr);
  pthread_mutex_destroy(&l->bs.mu);
}

static void poll_wake(ario_loop *l) {
  char c = 1;
  ssize_t r = write(l->bs.wake_wr, &c, 1);
  (void)r; /* a full pipe already wakes */
}

static void set_slot(ario_loop *l, uint32_t slot, int fd, short events) {
  pthread_mutex_lock(&l->bs.mu);
  l->bs.pfd[slot].fd = fd;
  l->bs.pfd[slot].events = events;
  pthread_mutex_unlock(&l->bs.mu);
  if (__atomic_load_n(&l->waiting, __ATOMIC_SEQ_CST)) poll_wake(l);
}

static int poll_watch(ario_loop *l, uint32_t slot, unsigned want) {
  set_slot(l, slot, l->fds[slot].fd, (short)want);
  return 0;
}

static void poll_forget(ario_loop *l, uint32_t slot) { set_slot(l, slot, -1, 0); }

static void drain(ario_loop *l) {
  char buf[64];
  while (read(l->bs.wake_rd, buf, sizeof buf) > 0) {
  }
}

static int poll_poll(ario_loop *l, int64_t timeout_ns) {
  struct pollfd *p = l->bs.pfd;
  int n = poll(p, l->fd_cap + 1, ario__ns_to_ms(timeout_ns));
  if (n < 0) return errno == EINTR ? 0 : -errno;
  if (p[l->fd_cap].revents && ario__owner_may_drain(l)) drain(l);
  for (uint32_t s = 0; s < l->fd_cap && n > 0; s++) {
    unsigned r = (unsigned)p[s].revents;
    if (!r || p[s].fd < 0) continue;
    p[s].revents = 0;
    if (r & POLLNVAL) r = ARIO_POLL_ERR;
    ario__fd_ready(l, s, r & (ARIO_POLL_IN | ARIO_POLL_PRI | ARIO_POLL_OUT |
                              ARIO_POLL_ERR | ARIO_POLL_HUP));
  }
  return n;
}

static int poll_wait_ready(ario_loop *l, int64_t timeout_ns) {
  struct pollfd *c = waiter_copy(l);
  pthread_mutex_lock(&l->bs.mu);
  memcpy(c, l->bs.pfd, (l->fd_cap + 1) * sizeof *c);
  pthread_mutex_unlock(&l->bs.mu);
#if defined(__linux__)
  /* the doorbell thread sleeps to timer deadlines: wait to the nanosecond */
  struct timespec ts = {(time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000)};
  int n = ppoll(c, l->fd_cap + 1, timeout_ns < 0 ? 0 : &ts, 0);
#else
  int n = poll(c, l->fd_cap + 1, ario__ns_to_ms(timeout_ns));
#endif
  if (n < 0) return errno == EINTR ? 1 : -errno;
  if (n == 1 && c[l->fd_cap].revents) drain(l); /* a bare wake: re-copy next time */
  return n > 0;
}

const ario__backend ario__backend_poll = {
    .id = ARIO_BACKEND_POLL,
    .mem_size = poll_mem_size,
    .init = poll_init,
    .deinit = poll_deinit,
    .watch = poll_watch,
    .forget = poll_forget,
    .poll = poll_poll,
    .wait = poll_wait_ready,
    .wake = poll_wake,
};
#endif
