/*
 * backend/epoll.c: Linux readiness through epoll. Registrations are level
 * triggered and kept while idle (dropped when they report with no waiter),
 * so a ping-pong on one socket costs one EPOLL_CTL_MOD per wait (the core
 * re-validates an idle registration: the number may name a new file). An
 * eventfd in the set carries ario_wake().
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_EPOLL)
#include <sys/epoll.h>
#include <sys/eventfd.h>

#define WAKE_TAG 0xFFFFFFFFu
#define BATCH 128
#define B(l) (&(l)->bs.epoll)

static size_t epoll_mem_size(uint32_t fd_cap) {
  (void)fd_cap;
  return 0;
}

static int epoll_init(ario_loop *l, void *mem) {
  (void)mem;
  ario__epoll_state *b = B(l);
  b->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (b->epfd < 0) return -errno;
  b->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->wake < 0) {
    int e = -errno;
    close(b->epfd);
    return e;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_TAG};
  if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->wake, &ev) < 0) {
    int e = -errno;
    close(b->epfd);
    close(b->wake);
    return e;
  }
  return 0;
}

static void epoll_deinit(ario_loop *l) {
  close(B(l)->epfd);
  close(B(l)->wake);
}

static int epoll_watch(ario_loop *l, uint32_t slot, unsigned want) {
  ario__fd *f = &l->fds[slot];
  struct epoll_event ev = {.events = want, .data.u32 = slot};
  int op = f->known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(B(l)->epfd, op, f->fd, &ev) == 0) return 0;
  if (errno == ENOENT && op == EPOLL_CTL_MOD &&
      epoll_ctl(B(l)->epfd, EPOLL_CTL_ADD, f->fd, &ev) == 0)
    return 0;
  if (errno == EEXIST && op == EPOLL_CTL_ADD &&
      epoll_ctl(B(l)->epfd, EPOLL_CTL_MOD, f->fd, &ev) == 0)
    return 0;
  /* regular files and directories cannot be polled: report EPERM */
  return -errno;
}

static void epoll_forget(ario_loop *l, uint32_t slot) {
  epoll_ctl(B(l)->epfd, EPOLL_CTL_DEL, l->fds[slot].fd, 0);
}

static void drain(ario_loop *l) {
  uint64_t v;
  while (read(B(l)->wake, &v, sizeof v) > 0) {
  }
}

static int epoll_poll(ario_loop *l, int64_t timeout_ns) {
  struct epoll_event ev[BATCH];
  if (timeout_ns > 0 && timeout_ns % 1000000) {
    /* sub-millisecond bound: wait precisely on the epoll fd itself */
    struct pollfd p = {.fd = B(l)->epfd, .events = POLLIN};
    struct timespec ts = {(time_t)(timeout_ns / 1000000000),
                          (long)(timeout_ns % 1000000000)};
    if (ppoll(&p, 1, &ts, 0) < 0 && errno != EINTR) return -errno;
    timeout_ns = 0;
  }
  int n = epoll_wait(B(l)->epfd, ev, BATCH, ario__ns_to_ms(timeout_ns));
  if (n < 0) return errno == EINTR ? 0 : -errno;
  for (int k = 0; k < n; k++) {
    if (ev[k].data.u32 == WAKE_TAG) {
      if (ario__owner_may_drain(l)) drain(l);
      continue;
    }
    unsigned r = ev[k].events;
    if (r & EPOLLRDHUP) r |= ARIO_POLL_IN;
    ario__fd_ready(l, ev[k].data.u32,
                   r & (ARIO_POLL_IN | ARIO_POLL_PRI | ARIO_POLL_OUT |
                        ARIO_POLL_ERR | ARIO_POLL_HUP));
  }
  return n;
}

static int epoll_wait_ready(ario_loop *l, int64_t timeout_ns) {
  struct pollfd p = {.fd = B(l)->epfd, .events = POLLIN};
  struct timespec ts, *tp = 0;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tp = &ts;
  }
  int n = ppoll(&p, 1, tp, 0);
  if (n < 0) return errno == EINTR ? 1 : -errno;
  return n > 0;
}

static void epoll_wake(ario_loop *l) {
  uint64_t one = 1;
  ssize_t r = write(B(l)->wake, &one, sizeof one);
  (void)r; /* a full counter already wakes */
}

const ario__backend ario__backend_epoll = ARIO__READINESS_BACKEND(ARIO_BACKEND_EPOLL, epoll);
#endif
