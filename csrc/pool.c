/*
 * pool.c: the file pool of the readiness backends (POSIX hosts), as
 * zig-aio's posix backend and libxev's thread pool have. A regular file
 * cannot be polled (epoll answers EPERM; poll and select call it always
 * ready, and the read then blocks the loop), so OPENAT, FSYNC and
 * READ/WRITE on a file run here, on at most ARIO_POOL_THREADS threads.
 *
 * Nothing is allocated: a job is its op slot (chained through ->next), the
 * pool's state is the loop's (ario_loop.pool). Threads are created on the
 * first job that finds none idle, and ario_deinit() joins them. The owner
 * never waits for a thread: a finished job goes on the done list and the
 * thread wakes the loop (the backend's wake(), which also wakes a thread
 * in ario_wait()); ario_reap() completes it through ario__complete(), so
 * links, linked timeouts and cancels behave as for any op.
 *
 * A thread copies what its job reads out of the slot under the lock, so the
 * owner may look at the slot meanwhile; the buffer and path stay the
 * caller's until the op completes, as for every op. Jobs never block
 * without bound (OPENAT opens as with O_NONBLOCK, see ario.h), which is
 * what makes joining in ario_deinit() safe.
 */
#include "ario_internal.h"
#include "sys.h"

#if defined(ARIO_HAVE_POOL)
#include <signal.h>
#include <sys/stat.h>

#define P(l) (&(l)->pool)
#define STACK_BYTES (256u * 1024u) /* a job is one syscall */

/* What a thread needs of its op, copied under the lock. */
typedef struct job {
  uint8_t op;
  int32_t fd;
  uintptr_t addr;
  uint32_t len, op_flags;
  uint64_t off;
} job;

static int32_t neg_errno(void) { return errno ? -errno : -EIO; }

static int32_t do_openat(const job *j) {
  int fd;
  /* O_NONBLOCK: never wait in open(2) for a FIFO's peer or a line */
  int flags = (int)j->op_flags | O_CLOEXEC | O_NONBLOCK;
  do fd = openat(j->fd, (const char *)j->addr, flags, (mode_t)j->len);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return neg_errno();
  if (!(j->op_flags & O_NONBLOCK)) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  return fd;
}

static int32_t run(const job *j) {
  ssize_t n;
  void *buf = (void *)j->addr;
  switch (j->op) {
  case ARIO_OP_OPENAT: return do_openat(j);
  case ARIO_OP_FSYNC:
    do {
#if defined(__APPLE__)
      n = fsync(j->fd); /* macOS: fdatasync is not declared */
#else
      n = j->op_flags & ARIO_FSYNC_DATASYNC ? fdatasync(j->fd) : fsync(j->fd);
#endif
    } while (n < 0 && errno == EINTR);
    return n < 0 ? neg_errno() : 0;
  default: /* READ, WRITE */
    do {
      if (j->off == ARIO_OFF_CURRENT)
        n = j->op == ARIO_OP_READ ? read(j->fd, buf, j->len) : write(j->fd, buf, j->len);
      else
        n = j->op == ARIO_OP_READ ? pread(j->fd, buf, j->len, (off_t)j->off)
                                  : pwrite(j->fd, buf, j->len, (off_t)j->off);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? neg_errno() : (int32_t)n;
  }
}

static void push(ario_loop *l, ario__idx *head, ario__idx *tail, ario__idx i) {
  l->ops[i].next = ARIO_NIL;
  if (*tail == ARIO_NIL) *head = i;
  else l->ops[*tail].next = i;
  *tail = i;
}

static void *worker(void *arg) {
  ario_loop *l = (ario_loop *)arg;
  ario__pool_state *p = P(l);
  pthread_mutex_lock(&p->mu);
  unsigned me = p->claimed++;
  for (;;) {
    while (p->queue_head == ARIO_NIL && !p->stopping) {
      p->idle++;
      pthread_cond_wait(&p->cv, &p->mu);
      p->idle--;
    }
    if (p->stopping) break;
    ario__idx i = p->queue_head;
    ario__op *op = &l->ops[i];
    p->queue_head = op->next;
    if (p->queue_head == ARIO_NIL) p->queue_tail = ARIO_NIL;
    p->queued--;
    p->busy[me] = i;
    job j = {op->op, op->fd, op->addr, op->len, op->op_flags, op->off};
    pthread_mutex_unlock(&p->mu);
    int32_t res = run(&j);
    pthread_mutex_lock(&p->mu);
    p->busy[me] = ARIO_NIL;
    pthread_cond_broadcast(&p->finished); /* an ario_close() may wait for it */
    op->res = res;
    push(l, &p->done_head, &p->done_tail, i);
    pthread_mutex_unlock(&p->mu);
    l->be->wake(l); /* ario_deinit() joins before the backend goes */
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return 0;
}

/* A thread more (p->mu held). Signals stay with the other threads. */
static int spawn(ario_loop *l) {
  ario__pool_state *p = P(l);
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, STACK_BYTES);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&p->thread[p->threads], &attr, worker, l);
  pthread_sigmask(SIG_SETMASK, &old, 0);
  pthread_attr_destroy(&attr);
  if (rc == 0) p->threads++;
  return rc;
}

int ario__pool_takes(ario_loop *l, const ario__op *op) {
  struct stat st;
  (void)l;
  if (op->op == ARIO_OP_OPENAT || op->op == ARIO_OP_FSYNC) return 1;
  if (op->op != ARIO_OP_READ && op->op != ARIO_OP_WRITE) return 0;
  if (fstat(op->fd, &st) < 0) return 0; /* the backend reports the bad fd */
  return S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode);
}

int32_t ario__pool_start(ario_loop *l, ario__idx i) {
  ario__pool_state *p = P(l);
  if (!p->ready) {
    pthread_mutex_init(&p->mu, 0);
    pthread_cond_init(&p->cv, 0);
    pthread_cond_init(&p->finished, 0);
    p->queue_head = p->queue_tail = p->done_head = p->done_tail = ARIO_NIL;
    p->closes = ARIO_NIL;
    for (unsigned t = 0; t < ARIO_POOL_THREADS; t++) p->busy[t] = ARIO_NIL;
    p->ready = 1;
  }
  pthread_mutex_lock(&p->mu);
  push(l, &p->queue_head, &p->queue_tail, i);
  p->queued++;
  if (p->queued > p->idle && p->threads < ARIO_POOL_THREADS) {
    int rc = spawn(l);
    if (rc && !p->threads) { /* no thread at all: the op fails */
      p->queue_head = p->queue_tail = ARIO_NIL;
      p->queued = 0;
      pthread_mutex_unlock(&p->mu);
      return -rc;
    }
  }
  l->ops[i].state = ARIO__POOL;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return 0;
}

int ario__pool_unqueue(ario_loop *l, ario__idx i) {
  ario__pool_state *p = P(l);
  int rc = -EALREADY;
  pthread_mutex_lock(&p->mu);
  ario__idx prev = ARIO_NIL;
  for (ario__idx k = p->queue_head; k != ARIO_NIL; prev = k, k = l->ops[k].next) {
    if (k != i) continue;
    if (prev == ARIO_NIL) p->queue_head = l->ops[k].next;
    else l->ops[prev].next = l->ops[k].next;
    if (p->queue_tail == k) p->queue_tail = prev;
    l->ops[k].next = ARIO_NIL;
    p->queued--;
    rc = 0;
    break;
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

void ario__pool_drop_fd(ario_loop *l, int32_t fd) {
  ario__pool_state *p = P(l);
  ario__idx head = ARIO_NIL, tail = ARIO_NIL;
  if (!p->ready) return;
  pthread_mutex_lock(&p->mu);
  ario__idx keep_head = ARIO_NIL, keep_tail = ARIO_NIL;
  for (ario__idx k = p->queue_head, next; k != ARIO_NIL; k = next) {
    next = l->ops[k].next;
    if (l->ops[k].fd == fd) {
      push(l, &head, &tail, k);
      p->queued--;
    } else {
      push(l, &keep_head, &keep_tail, k);
    }
  }
  p->queue_head = keep_head;
  p->queue_tail = keep_tail;
  pthread_mutex_unlock(&p->mu);
  while (head != ARIO_NIL) {
    ario__idx k = head;
    head = l->ops[k].next;
    l->ops[k].next = ARIO_NIL;
    ario__complete(l, k, -ECANCELED);
  }
}

/* Whether a thread runs a job on fd now (p->mu held). */
static int fd_busy_locked(ario_loop *l, int32_t fd) {
  ario__pool_state *p = P(l);
  for (unsigned t = 0; t < p->threads; t++)
    if (p->busy[t] != ARIO_NIL && l->ops[p->busy[t]].fd == fd) return 1;
  return 0;
}

static int fd_busy(ario_loop *l, int32_t fd) {
  pthread_mutex_lock(&P(l)->mu);
  int busy = fd_busy_locked(l, fd);
  pthread_mutex_unlock(&P(l)->mu);
  return busy;
}

static int32_t close_now(int32_t fd) { return close(fd) == 0 ? 0 : neg_errno(); }

/* Runs the deferred CLOSE ops whose fd no job uses now (all of them:
 * `all`, ario_deinit, which completes nothing). */
static void finish_closes(ario_loop *l, int all) {
  ario__pool_state *p = P(l);
  ario__idx *at = &p->closes;
  while (*at != ARIO_NIL) {
    ario__idx i = *at;
    int32_t fd = l->ops[i].fd;
    if (!all && fd_busy(l, fd)) {
      at = &l->ops[i].next;
      continue;
    }
    *at = l->ops[i].next;
    l->ops[i].next = ARIO_NIL;
    ario__pool_drop_fd(l, fd); /* queued behind the close: cancelled */
    int32_t res = close_now(fd);
    if (!all) ario__complete(l, i, res); /* ario_deinit() completes nothing */
  }
}

int ario__pool_defer_close(ario_loop *l, ario__idx i, int32_t fd) {
  ario__pool_state *p = P(l);
  if (!p->ready || !fd_busy(l, fd)) return 0;
  l->ops[i].state = ARIO__POOL;
  l->ops[i].next = p->closes;
  p->closes = i;
  return 1;
}

void ario__pool_wait_fd(ario_loop *l, int32_t fd) {
  ario__pool_state *p = P(l);
  if (!p->ready) return;
  pthread_mutex_lock(&p->mu);
  while (fd_busy_locked(l, fd)) pthread_cond_wait(&p->finished, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

void ario__pool_reap(ario_loop *l) {
  ario__pool_state *p = P(l);
  if (!p->ready) return;
  pthread_mutex_lock(&p->mu);
  ario__idx head = p->done_head;
  p->done_head = p->done_tail = ARIO_NIL;
  pthread_mutex_unlock(&p->mu);
  if (head == ARIO_NIL) return;
  while (head != ARIO_NIL) {
    ario__idx i = head;
    head = l->ops[i].next;
    l->ops[i].next = ARIO_NIL;
    ario__complete(l, i, l->ops[i].res);
  }
  finish_closes(l, 0);
}

void ario__pool_stop(ario_loop *l) {
  ario__pool_state *p = P(l);
  if (!p->ready) return;
  pthread_mutex_lock(&p->mu);
  p->stopping = 1; /* queued jobs are dropped, as every pending op */
  p->queue_head = p->queue_tail = ARIO_NIL;
  p->queued = 0;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (unsigned t = 0; t < p->threads; t++) pthread_join(p->thread[t], 0);
  p->threads = 0;
  finish_closes(l, 1); /* the closes asked for still happen */
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  pthread_cond_destroy(&p->finished);
  p->ready = 0;
}
#endif
