/*
 * backend/kqueue.c: macOS and BSD readiness through kqueue. Level-triggered
 * EVFILT_READ / EVFILT_WRITE registrations with udata = fd slot, added and
 * deleted as the slot's interest changes; ario_wake() triggers an
 * EVFILT_USER event. A kqueue descriptor is itself pollable, which is how a
 * waiting thread sleeps without touching the registrations.
 * Written to the epoll backend's contract; cross-compiled, not run here.
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_KQUEUE)
#include <poll.h>
#include <sys/event.h>
#include <sys/time.h>

#define WAKE_IDENT 0x6172696fu /* "ario" */
#define BATCH 128
#define B(l) (&(l)->bs.kqueue)

static size_t kq_mem_size(uint32_t fd_cap) {
  (void)fd_cap;
  return 0;
}

static int kq_init(ario_loop *l, void *mem) {
  (void)mem;
  struct kevent ev;
  B(l)->kq = kqueue();
  if (B(l)->kq < 0) return -errno;
  ario__sys_prepare_fd(B(l)->kq);
  EV_SET(&ev, WAKE_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, 0);
  if (kevent(B(l)->kq, &ev, 1, 0, 0, 0) < 0) {
    int e = -errno;
    close(B(l)->kq);
    return e;
  }
  return 0;
}

static void kq_deinit(ario_loop *l) { close(B(l)->kq); }

static int kq_watch(ario_loop *l, uint32_t slot, unsigned want) {
  ario__fd *f = &l->fds[slot];
  struct kevent ev[2];
  int n = 0;
  void *ud = (void *)(uintptr_t)slot;
  unsigned had = f->known ? f->armed : 0;
  if ((want & ARIO_POLL_IN) || (had & ARIO_POLL_IN))
    EV_SET(&ev[n++], (uintptr_t)f->fd, EVFILT_READ,
           (want & ARIO_POLL_IN) ? EV_ADD | EV_ENABLE : EV_DELETE, 0, 0, ud);
  if ((want & ARIO_POLL_OUT) || (had & ARIO_POLL_OUT))
    EV_SET(&ev[n++], (uintptr_t)f->fd, EVFILT_WRITE,
           (want & ARIO_POLL_OUT) ? EV_ADD | EV_ENABLE : EV_DELETE, 0, 0, ud);
  if (n && kevent(B(l)->kq, ev, n, 0, 0, 0) < 0 && errno != ENOENT) return -errno;
  return 0;
}

static void kq_forget(ario_loop *l, uint32_t slot) {
  struct kevent ev[2];
  int fd = l->fds[slot].fd;
  EV_SET(&ev[0], (uintptr_t)fd, EVFILT_READ, EV_DELETE, 0, 0, 0);
  EV_SET(&ev[1], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE, 0, 0, 0);
  kevent(B(l)->kq, &ev[0], 1, 0, 0, 0); /* ENOENT when not registered: fine */
  kevent(B(l)->kq, &ev[1], 1, 0, 0, 0);
}

static int kq_poll(ario_loop *l, int64_t timeout_ns) {
  struct kevent ev[BATCH];
  struct timespec ts, *tp = 0;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tp = &ts;
  }
  int n = kevent(B(l)->kq, 0, 0, ev, BATCH, tp);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  for (int k = 0; k < n; k++) {
    if (ev[k].filter == EVFILT_USER) continue; /* a wake */
    uint32_t slot = (uint32_t)(uintptr_t)ev[k].udata;
    if (slot >= l->fd_cap || l->fds[slot].fd != (int32_t)ev[k].ident) continue;
    unsigned r = ev[k].filter == EVFILT_READ ? ARIO_POLL_IN : ARIO_POLL_OUT;
    if (ev[k].flags & EV_ERROR) r = ARIO_POLL_ERR;
    else if ((ev[k].flags & EV_EOF) && ev[k].filter == EVFILT_WRITE) r |= ARIO_POLL_HUP;
    ario__fd_ready(l, slot, r);
  }
  return n;
}

static int kq_wait_ready(ario_loop *l, int64_t timeout_ns) {
  struct pollfd p = {.fd = B(l)->kq, .events = POLLIN};
  int n = poll(&p, 1, ario__ns_to_ms(timeout_ns));
  if (n < 0) return errno == EINTR ? 1 : -errno;
  return n > 0;
}

static void kq_wake(ario_loop *l) {
  struct kevent ev;
  EV_SET(&ev, WAKE_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, 0);
  kevent(B(l)->kq, &ev, 1, 0, 0, 0);
}

const ario__backend ario__backend_kqueue = ARIO__READINESS_BACKEND(ARIO_BACKEND_KQUEUE, kq);
#endif
