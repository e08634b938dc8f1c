/* pipe_dev.c: in-memory pipes, the readiness backend and the clock of the
 * bare-metal test harness (see pipe_dev.h). No heap: static state only. */
#include "pipe_dev.h"
#include "ario_internal.h"

#ifndef EMFILE
#define EMFILE 24
#endif
#ifndef ESPIPE
#define ESPIPE 29
#endif
#ifndef EPIPE
#define EPIPE 32
#endif
#ifndef ENOTSOCK
#define ENOTSOCK 88
#endif

#define RD_OPEN 1u
#define WR_OPEN 2u

typedef struct pipe_dev {
  uint8_t buf[PIPE_DEV_BUF];
  uint16_t head, count;
  uint8_t open; /* RD_OPEN | WR_OPEN; 0: free */
} pipe_dev;

static pipe_dev pipes[PIPE_DEV_PIPES];
static int64_t sim_now = 1000000000; /* starts at 1 s */

/* fd -> pipe and end (0 read, 1 write); NULL when not an open end. */
static pipe_dev *lookup(int fd, int *end) {
  int k = fd - PIPE_DEV_FD0;
  if (fd < PIPE_DEV_FD0 || k >= 2 * PIPE_DEV_PIPES) return 0;
  pipe_dev *p = &pipes[k / 2];
  *end = k & 1;
  return (p->open & (*end ? WR_OPEN : RD_OPEN)) ? p : 0;
}

ARIO_API int ario_pipe(int32_t fds[2]) {
  for (int k = 0; k < PIPE_DEV_PIPES; k++) {
    if (pipes[k].open) continue;
    pipes[k].head = pipes[k].count = 0;
    pipes[k].open = RD_OPEN | WR_OPEN;
    fds[0] = PIPE_DEV_FD0 + 2 * k;
    fds[1] = PIPE_DEV_FD0 + 2 * k + 1;
    return 0;
  }
  return -EMFILE;
}

static int close_end(int fd) {
  int end;
  pipe_dev *p = lookup(fd, &end);
  if (!p) return -EBADF;
  p->open &= (uint8_t)~(end ? WR_OPEN : RD_OPEN);
  return 0;
}

ARIO_API int ario_close(ario_loop *l, int fd) {
  if (l) ario__drop_fd(l, fd);
  return close_end(fd);
}

int pipe_dev_open_count(void) {
  int n = 0;
  for (int k = 0; k < PIPE_DEV_PIPES; k++) n += pipes[k].open != 0;
  return n;
}

int pipe_dev_write(int fd, const void *buf, uint32_t len) {
  int end;
  pipe_dev *p = lookup(fd, &end);
  if (!p || !end) return -EBADF;
  if (!(p->open & RD_OPEN)) return -EPIPE;
  if (len && p->count == PIPE_DEV_BUF) return -EAGAIN;
  uint32_t n = 0;
  for (; n < len && p->count < PIPE_DEV_BUF; n++, p->count++)
    p->buf[(p->head + p->count) % PIPE_DEV_BUF] = ((const uint8_t *)buf)[n];
  return (int)n;
}

int pipe_dev_read(int fd, void *buf, uint32_t len) {
  int end;
  pipe_dev *p = lookup(fd, &end);
  if (!p || end) return -EBADF;
  if (len && !p->count) return (p->open & WR_OPEN) ? -EAGAIN : 0; /* 0: EOF */
  uint32_t n = 0;
  for (; n < len && p->count; n++, p->count--) {
    ((uint8_t *)buf)[n] = p->buf[p->head];
    p->head = (uint16_t)((p->head + 1) % PIPE_DEV_BUF);
  }
  return (int)n;
}

/* Readiness of a descriptor, ARIO_POLL_* bits (ERR for a closed one, as
 * poll(2)'s POLLNVAL is reported by the host backends). */
static unsigned readiness(int fd) {
  int end;
  pipe_dev *p = lookup(fd, &end);
  if (!p) return ARIO_POLL_ERR;
  if (!end) return (p->count ? ARIO_POLL_IN : 0) | ((p->open & WR_OPEN) ? 0 : ARIO_POLL_HUP);
  if (!(p->open & RD_OPEN)) return ARIO_POLL_OUT | ARIO_POLL_ERR;
  return p->count < PIPE_DEV_BUF ? ARIO_POLL_OUT : 0;
}

void pipe_dev_advance(int64_t ns) { sim_now += ns; }

ARIO_API int64_t ario_now(void) { return sim_now; }

/* ------------------------------------------------------------ the ops -- */

static int32_t transfer(ario__op *op) {
  int32_t n;
  if (op->op == ARIO_OP_READ || op->op == ARIO_OP_WRITE) {
    if (op->off != ARIO_OFF_CURRENT) return -ESPIPE; /* a pipe has no offset */
    return op->op == ARIO_OP_READ ? pipe_dev_read(op->fd, (void *)op->addr, op->len)
                                  : pipe_dev_write(op->fd, (const void *)op->addr, op->len);
  }
  /* RECV/SEND: the stream-socket view, with MSG_WAITALL progress in res */
  uint32_t done = (uint32_t)op->res;
  uint8_t *buf = (uint8_t *)op->addr + done;
  n = op->op == ARIO_OP_RECV ? pipe_dev_read(op->fd, buf, op->len - done)
                             : pipe_dev_write(op->fd, buf, op->len - done);
  if (n == -EAGAIN) return -EAGAIN;
  if (n < 0) return done ? (int32_t)done : n;
  done += (uint32_t)n;
  if ((op->op_flags & MSG_WAITALL) && n > 0 && done < op->len) {
    op->res = (int32_t)done;
    return -EAGAIN;
  }
  return (int32_t)done;
}

int32_t ario__try_io(ario_loop *l, ario__op *op, unsigned revents) {
  (void)l;
  switch (op->op) {
  case ARIO_OP_READ:
  case ARIO_OP_WRITE:
  case ARIO_OP_RECV:
  case ARIO_OP_SEND: return transfer(op);
  case ARIO_OP_CLOSE: return close_end(op->fd);
  case ARIO_OP_POLL: return (int32_t)(revents & (op->events | ARIO_POLL_ERR | ARIO_POLL_HUP));
  case ARIO_OP_SOCKET: return -EOPNOTSUPP; /* a pipe device has no sockets */
  case ARIO_OP_RECVFROM:
  case ARIO_OP_SENDTO:
  case ARIO_OP_ACCEPT:
  case ARIO_OP_ACCEPT_MULTI:
  case ARIO_OP_CONNECT:
  case ARIO_OP_SHUTDOWN: {
    int end;
    return lookup(op->fd, &end) ? -ENOTSOCK : -EBADF;
  }
  default: return -EINVAL;
  }
}

/* ------------------------------------------------------------ backend -- */
/* Interest lives in the core's fd table (ario__fd.armed, set once watch()
 * returns 0), so the backend needs no memory of its own. */

static size_t dev_mem_size(uint32_t fd_cap) {
  (void)fd_cap;
  return 0;
}
static int dev_init(ario_loop *l, void *mem) {
  (void)l;
  (void)mem;
  return 0;
}
static void dev_deinit(ario_loop *l) { (void)l; }
static int dev_watch(ario_loop *l, uint32_t slot, unsigned want) {
  (void)l;
  (void)slot;
  (void)want;
  return 0;
}
static void dev_forget(ario_loop *l, uint32_t slot) {
  (void)l;
  (void)slot;
}

static unsigned slot_events(ario_loop *l, uint32_t s) {
  const ario__fd *f = &l->fds[s];
  if (f->fd < 0 || !f->armed) return 0;
  return readiness(f->fd) & (f->armed | ARIO_POLL_ERR | ARIO_POLL_HUP);
}

static int dev_poll(ario_loop *l, int64_t timeout_ns) {
  int ready = 0;
  for (uint32_t s = 0; s < l->fd_cap; s++) ready += slot_events(l, s) != 0;
  if (!ready) {
    if (timeout_ns > 0) sim_now += timeout_ns; /* "sleep" until the timeout */
    return 0;
  }
  /* Completing ops may move fd slots (backward-shift deletion): whatever a
   * move skips this time is reported by the next reap. */
  uint32_t posted = l->ring_tail;
  for (uint32_t s = 0; s < l->fd_cap; s++) {
    unsigned r = slot_events(l, s);
    if (r) ario__fd_ready(l, s, r);
  }
  /* Ready but nothing could complete: time still passes (no busy loop). */
  if (posted == l->ring_tail && timeout_ns > 0) sim_now += timeout_ns;
  return ready;
}

static int dev_wait(ario_loop *l, int64_t timeout_ns) {
  (void)timeout_ns;
  for (uint32_t s = 0; s < l->fd_cap; s++)
    if (slot_events(l, s)) return 1;
  return 0;
}
static void dev_wake(ario_loop *l) { (void)l; }

const ario__backend ario__backend_bare = {
    .id = ARIO_BACKEND_BARE,
    .mem_size = dev_mem_size,
    .init = dev_init,
    .deinit = dev_deinit,
    .watch = dev_watch,
    .forget = dev_forget,
    .poll = dev_poll,
    .wait = dev_wait,
    .wake = dev_wake,
};
