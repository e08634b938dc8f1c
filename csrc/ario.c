/*
 * ario.c: the portable core. Op table, chains (soft and hard links, linked
 * timeouts), the timer heap, cancel, and the completion ring. It knows
 * nothing of the OS: readiness comes from a backend, syscalls from ops.c.
 *
 * Invariants:
 *  - an op holds its slot until its last completion is reaped; the ring
 *    (> slots) takes a multishot op's earlier ones only while room for
 *    every in-flight op's last remains (ario__more_room): no overflow;
 *  - every consumed submission is completed exactly once (complete());
 *  - a chain is consumed whole or not at all.
 */
#include "ario_internal.h"

/* ------------------------------------------------------------- helpers -- */

static uint32_t pow2_at_least(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

static size_t align16(size_t n) { return (n + 15u) & ~(size_t)15u; }

/* --------------------------------------------------------------- sizing -- */

typedef struct layout {
  uint32_t fd_cap, ring_cap;
  size_t ops, fds, ring, heap, backend, total;
} layout;

static int plan(const ario_params *p, const ario__backend *be, layout *o) {
  if (!p || p->entries == 0 || p->entries > ARIO_MAX_ENTRIES || p->flags || p->reserved)
    return -EINVAL;
  uint32_t slots = p->entries + ARIO_RESERVED_SLOTS; /* + CANCEL/CLOSE only */
  o->fd_cap = pow2_at_least(ARIO_FD_SLOTS(slots));
  o->ring_cap = pow2_at_least(slots + 1); /* an empty ring has room for more (ario__more_room) */
  o->ops = align16(sizeof(struct ario_loop));
  o->fds = o->ops + align16(sizeof(ario__op) * slots);
  o->ring = o->fds + align16(sizeof(ario__fd) * o->fd_cap);
  o->heap = o->ring + align16(sizeof(ario__cqent) * o->ring_cap);
  o->backend = o->heap + align16(sizeof(ario__idx) * slots);
  size_t bm = be->mem_size(o->fd_cap);
  if (be->fallback && be->fallback->mem_size(o->fd_cap) > bm)
    bm = be->fallback->mem_size(o->fd_cap); /* room to fall back in place */
  o->total = o->backend + align16(bm);
  return 0;
}

ARIO_API size_t ario_mem_size(const ario_params *p) {
  const ario__backend *be = ario__backend_for(p, 0);
  layout o;
  if (!be || plan(p, be, &o)) return 0;
  return o.total;
}

ARIO_API int ario_init(void *mem, size_t mem_len, const ario_params *p) {
  const ario__backend *be;
  layout o;
  int rc, named;
  if (!mem || ((uintptr_t)mem & 15u)) return -EINVAL;
  be = ario__backend_for(p, &named);
  if (!be) return p && p->backend > ARIO_BACKEND_BARE ? -EINVAL : -ENOSYS;
  if ((rc = plan(p, be, &o))) return rc;
  if (mem_len < o.total) return -ENOMEM;
  memset(mem, 0, o.total);
  ario_loop *l = (ario_loop *)mem;
  l->be = be;
  l->entries = p->entries;
  l->fd_cap = o.fd_cap;
  l->ring_cap = o.ring_cap;
  l->ops = (ario__op *)((char *)mem + o.ops);
  l->fds = (ario__fd *)((char *)mem + o.fds);
  l->ring = (ario__cqent *)((char *)mem + o.ring);
  l->heap = (ario__idx *)((char *)mem + o.heap);
  l->deadline = INT64_MAX;
  l->run_head = l->run_tail = ARIO_NIL;
  for (uint32_t i = 0; i < ARIO__SLOTS(l); i++) {
    l->ops[i].next = (ario__idx)(i + 1 < ARIO__SLOTS(l) ? i + 1 : ARIO_NIL);
    l->ops[i].link = ARIO_NIL;
    l->ops[i].pos = ARIO_NIL;
  }
  for (uint32_t i = 0; i < l->fd_cap; i++) {
    l->fds[i].fd = -1;
    l->fds[i].head = l->fds[i].tail = ARIO_NIL;
  }
  l->free_head = 0;
  rc = be->init(l, (char *)mem + o.backend);
  if (rc < 0 && be->fallback && !named) {
    /* io_uring refused (seccomp, sysctl, old kernel): silently use epoll */
    memset(&l->bs, 0, sizeof l->bs);
    memset((char *)mem + o.backend, 0, o.total - o.backend);
    l->be = be->fallback;
    rc = l->be->init(l, (char *)mem + o.backend);
  }
  if (rc < 0) l->be = 0;
  return rc;
}

ARIO_API int ario_backend(const ario_loop *l) { return l->be->id; }
ARIO_API uint32_t ario_inflight(const ario_loop *l) { return l->inflight; }

/* ------------------------------------------------------------ the heap -- */

static int64_t deadline_of(const ario_loop *l, ario__idx i) {
  return (int64_t)l->ops[i].off;
}

static void heap_set(ario_loop *l, uint32_t pos, ario__idx i) {
  l->heap[pos] = i;
  l->ops[i].pos = (ario__idx)pos;
}

static void heap_up(ario_loop *l, uint32_t pos) {
  ario__idx i = l->heap[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (deadline_of(l, l->heap[parent]) <= deadline_of(l, i)) break;
    heap_set(l, pos, l->heap[parent]);
    pos = parent;
  }
  heap_set(l, pos, i);
}

static void heap_down(ario_loop *l, uint32_t pos) {
  ario__idx i = l->heap[pos];
  for (;;) {
    uint32_t c = pos * 2 + 1;
    if (c >= l->heap_len) break;
    if (c + 1 < l->heap_len &&
        deadline_of(l, l->heap[c + 1]) < deadline_of(l, l->heap[c]))
      c++;
    if (deadline_of(l, i) <= deadline_of(l, l->heap[c])) break;
    heap_set(l, pos, l->heap[c]);
    pos = c;
  }
  heap_set(l, pos, i);
}

/* Makes the earliest deadline visible to a thread in ario_wait(), and wakes
 * it when the bound got earlier. Dekker-style: the waiter stores `waiting`
 * then loads `deadline`; we store `deadline` then load `waiting`. */
static void publish_deadline(ario_loop *l) {
  int64_t d = l->heap_len ? deadline_of(l, l->heap[0]) : INT64_MAX;
  int64_t old = ARIO_LOAD(&l->deadline, __ATOMIC_RELAXED);
  ARIO_STORE(&l->deadline, d, __ATOMIC_SEQ_CST);
  if (d < old && ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST)) l->be->wake(l);
}

static void heap_push(ario_loop *l, ario__idx i) {
  l->heap[l->heap_len] = i;
  heap_up(l, l->heap_len++);
  if (l->heap[0] == i) publish_deadline(l);
}

static void heap_remove(ario_loop *l, ario__idx i) {
  uint32_t pos = l->ops[i].pos;
  uint32_t last = --l->heap_len;
  l->ops[i].pos = ARIO_NIL;
  if (pos != last) {
    ario__idx moved = l->heap[last];
    heap_set(l, pos, moved);
    heap_up(l, pos);
    if (l->ops[moved].pos == pos) heap_down(l, pos);
  }
  if (pos == 0) publish_deadline(l);
}

/* ------------------------------------------------------------ fd table -- */

static uint32_t fd_hash(const ario_loop *l, int32_t fd) {
  return ((uint32_t)fd * 2654435761u) & (l->fd_cap - 1);
}

static uint32_t fd_find(const ario_loop *l, int32_t fd) {
  uint32_t s = fd_hash(l, fd);
  for (uint32_t n = 0; n < l->fd_cap; n++, s = (s + 1) & (l->fd_cap - 1)) {
    if (l->fds[s].fd == fd) return s;
    if (l->fds[s].fd < 0) return ARIO_NIL;
  }
  return ARIO_NIL; /* a full table (ARIO_SMALL) */
}

uint32_t ario__fd_slot(const ario_loop *l, int32_t fd) { return fd_find(l, fd); }

static int set_interest(ario_loop *l, uint32_t s, unsigned want) {
  int rc = l->be->watch(l, s, want);
  if (rc == 0) {
    l->fds[s].armed = (uint8_t)want;
    l->fds[s].known = 1;
  }
  return rc;
}

static void fd_erase(ario_loop *l, uint32_t s);

/* Idle registrations (no waiters) are kept for reuse; when the table runs
 * short they are dropped. Waiting fds never exceed `entries` <= fd_cap/2. */
static void fd_evict_idle(ario_loop *l) {
  for (uint32_t s = 0; s < l->fd_cap; s++)
    while (l->fds[s].fd >= 0 && l->fds[s].head == ARIO_NIL) fd_erase(l, s);
}

static uint32_t fd_insert(ario_loop *l, int32_t fd) {
  uint32_t s = fd_find(l, fd);
  if (s != ARIO_NIL) return s;
  if (l->fd_used + 1 > l->fd_cap / 2 + l->fd_cap / 4) fd_evict_idle(l);
  l->fd_used++;
  s = fd_hash(l, fd);
  while (l->fds[s].fd >= 0) s = (s + 1) & (l->fd_cap - 1);
  l->fds[s].fd = fd;
  l->fds[s].head = l->fds[s].tail = ARIO_NIL;
  l->fds[s].want = l->fds[s].armed = l->fds[s].known = 0;
  return s;
}

/* Backward-shift deletion keeps linear probing free of tombstones. Moving a
 * slot changes its index, so the backend forgets it and waiters are
 * re-pointed. */
static void fd_erase(ario_loop *l, uint32_t s) {
  uint32_t mask = l->fd_cap - 1;
  if (l->fds[s].known) l->be->forget(l, s);
  l->fds[s].fd = -1;
  l->fd_used--;
  for (uint32_t j = (s + 1) & mask; l->fds[j].fd >= 0; j = (j + 1) & mask) {
    uint32_t home = fd_hash(l, l->fds[j].fd);
    /* j may move to s if home is cyclically outside (s, j] */
    if (((j - home) & mask) >= ((j - s) & mask)) {
      if (l->fds[j].known) l->be->forget(l, j);
      l->fds[s] = l->fds[j];
      l->fds[s].known = l->fds[s].armed = 0;
      for (ario__idx i = l->fds[s].head; i != ARIO_NIL; i = l->ops[i].next)
        l->ops[i].pos = (ario__idx)s;
      /* re-register whenever ops wait: a POLL with an empty mask still
       * waits for ERR/HUP (want 0 is not "no waiter") */
      if (l->fds[s].head != ARIO_NIL) set_interest(l, s, l->fds[s].want);
      l->fds[j].fd = -1;
      s = j;
    }
  }
}

/* --------------------------------------------------------- completions -- */

static void start(ario_loop *l, ario__idx i);
#define complete ario__complete

/* ario__op.events of a TIMEOUT that also completes on a completion count */
#define COUNTED 1u

static int is_link_timeout(const ario_loop *l, ario__idx i) {
  return i != ARIO_NIL && l->ops[i].op == ARIO_OP_LINK_TIMEOUT;
}

/* Whether a result lets a soft chain go on (io_uring's rules: an error, or a
 * short READ[V]/WRITE[V]/SEND/SENDTO, or a short RECV with MSG_WAITALL, fails). */
static int succeeded(const ario__op *op, int32_t res) {
  if (res < 0) return 0;
  switch (op->op) {
  case ARIO_OP_READ:
  case ARIO_OP_WRITE:
  case ARIO_OP_SEND:
  case ARIO_OP_SENDTO:
  case ARIO_OP_SPLICE: case ARIO_OP_TEE: return (uint32_t)res >= op->len;
  case ARIO_OP_READV: case ARIO_OP_WRITEV: return (uint64_t)res >= ario__iov_total(op->addr, op->len);
  case ARIO_OP_RECV: case ARIO_OP_RECVFROM: /* RECVMSG takes no MSG_WAITALL */
#ifdef MSG_WAITALL
    if (op->op_flags & MSG_WAITALL) return (uint32_t)res >= op->len;
#endif
    return 1;
  default: return 1;
  }
}

static void check_counted_timeouts(ario_loop *l) {
  for (uint32_t k = 0; k < l->heap_len && l->counted_timeouts;) {
    ario__idx t = l->heap[k];
    ario__op *op = &l->ops[t];
    if (op->op == ARIO_OP_TIMEOUT && op->events == COUNTED &&
        (int32_t)(l->cq_seq - op->len) >= 0) {
      heap_remove(l, t);
      l->counted_timeouts--;
      complete(l, t, 0);
      k = 0; /* the heap moved */
    } else {
      k++;
    }
  }
}

/* Fails every op of a chain from i on with -ECANCELED, in order. */
static void cancel_chain(ario_loop *l, ario__idx i) {
  while (i != ARIO_NIL) {
    ario__idx next = l->ops[i].link;
    l->ops[i].link = ARIO_NIL;
    complete(l, i, -ECANCELED);
    i = next;
  }
}

/* Removes a waiting op from its fd's FIFO. */
static void unwait(ario_loop *l, ario__idx i) {
  uint32_t s = l->ops[i].pos;
  ario__fd *f = &l->fds[s];
  ario__idx prev = ARIO_NIL;
  for (ario__idx k = f->head; k != ARIO_NIL; prev = k, k = l->ops[k].next) {
    if (k != i) continue;
    if (prev == ARIO_NIL) f->head = l->ops[k].next;
    else l->ops[prev].next = l->ops[k].next;
    if (f->tail == k) f->tail = prev;
    break;
  }
  l->ops[i].next = ARIO_NIL;
  l->ops[i].pos = ARIO_NIL;
  unsigned want = 0;
  for (ario__idx k = f->head; k != ARIO_NIL; k = l->ops[k].next)
    want |= l->ops[k].events;
  f->want = (uint8_t)want;
  /* Interest is dropped lazily: an idle registration costs nothing until
   * the fd reports, and the next op on it usually comes right away. */
  if (f->head == ARIO_NIL && !f->known) fd_erase(l, s);
}

/* Stops an op that has not completed (WAITING, TIMER or POOL): 0, or
 * -EALREADY for a pool job a thread runs (it completes on its own). */
static int detach(ario_loop *l, ario__idx i) {
  ario__op *op = &l->ops[i];
  if (op->state == ARIO__WAITING) {
    unwait(l, i);
  } else if (op->state == ARIO__TIMER) {
    heap_remove(l, i);
    if (op->op == ARIO_OP_TIMEOUT && op->events == COUNTED) l->counted_timeouts--;
  } else if (op->state == ARIO__POOL) {
    return ario__pool_unqueue(l, i);
  }
  return 0;
}

/* After the owner queued completions outside ario_reap() (inside
 * ario_submit(), ario_close()): a thread already asleep in ario_wait()
 * (the doorbell) must return, or the owner never hears of them. Dekker
 * with ario_wait(): it stores `waiting`, fences, loads the ring tail; we
 * stored the tail, fence, load `waiting`. */
static void notify_waiter(ario_loop *l, uint32_t tail_before) {
  if (l->ring_tail == tail_before) return;
#if defined(ARIO_HOST)
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
  if (ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST)) l->be->wake(l);
}

/* The single place where an op completes. */
void ario__complete(ario_loop *l, ario__idx i, int32_t res) {
  ario__op *op = &l->ops[i];
  op->res = res;
  op->state = ARIO__DONE;
  ario__push_ring(l, i, res, 0);
  /* Expired timeouts do not count towards counted timeouts (io_uring). */
  if (!(op->op == ARIO_OP_TIMEOUT && res == -ETIME)) l->cq_seq++;

  if (op->op == ARIO_OP_LINK_TIMEOUT) return; /* its target drives the chain */

  ario__idx next = op->link;
  op->link = ARIO_NIL;
  if (is_link_timeout(l, next)) {
    ario__op *lt = &l->ops[next];
    ario__idx after = lt->link;
    lt->link = ARIO_NIL;
    if (lt->state == ARIO__TIMER) {
      heap_remove(l, next);
      complete(l, next, -ECANCELED);
    } else if (lt->state == ARIO__QUEUED) {
      complete(l, next, -ECANCELED);
    }
    next = after;
  }
  if (next != ARIO_NIL) {
    if (succeeded(op, res) || (op->flags & ARIO_SQE_HARDLINK)) start(l, next);
    else cancel_chain(l, next);
  }
  if (l->counted_timeouts) check_counted_timeouts(l);
}

/* ------------------------------------------------------------- running -- */

static unsigned events_for(const ario__op *op) {
  switch (op->op) {
  case ARIO_OP_READ: case ARIO_OP_READV: case ARIO_OP_RECVMSG:
  case ARIO_OP_RECV:
  case ARIO_OP_RECVFROM:
  case ARIO_OP_ACCEPT:
  case ARIO_OP_ACCEPT_MULTI: case ARIO_OP_RECV_MULTI: return ARIO_POLL_IN;
  case ARIO_OP_WRITE: case ARIO_OP_WRITEV: case ARIO_OP_SENDMSG:
  case ARIO_OP_SEND:
  case ARIO_OP_SENDTO:
  case ARIO_OP_CONNECT: return ARIO_POLL_OUT;
  case ARIO_OP_POLL: return op->op_flags & (ARIO_POLL_IN | ARIO_POLL_PRI | ARIO_POLL_OUT);
  case ARIO_OP_SPLICE: case ARIO_OP_TEE: return (unsigned)op->res; /* the side its attempt asked for */
  default: return 0;
  }
}

static void wait_on_fd(ario_loop *l, ario__idx i) {
  ario__op *op = &l->ops[i];
  int reads = ARIO__TWO_FDS(op->op) && op->res == (int32_t)ARIO_POLL_IN; /* on fd_in */
  uint32_t s = fd_insert(l, reads ? (int32_t)op->addr : op->fd);
  ario__fd *f = &l->fds[s];
  op->state = ARIO__WAITING;
  op->pos = (ario__idx)s;
  op->next = ARIO_NIL;
  op->events = (uint8_t)events_for(op);
  if (f->tail == ARIO_NIL) f->head = i;
  else l->ops[f->tail].next = i;
  f->tail = i;
  int was_idle = f->head == i; /* no other waiter before this one */
  f->want |= op->events;
  /* An idle registration is re-validated: the fd may have been closed and
   * its number reused behind the loop's back (epoll then answers ENOENT and
   * the backend adds the new file). */
  if (was_idle || (f->armed & f->want) != f->want) {
    int rc = set_interest(l, s, f->want | f->armed);
    if (rc < 0) {
      unwait(l, i);
      complete(l, i, rc);
    }
  }
}

static void arm_timer(ario_loop *l, ario__idx i) {
  ario__op *op = &l->ops[i];
  if (!(op->op_flags & ARIO_TIMEOUT_ABS)) {
    int64_t now = ario_now();
    uint64_t rel = op->off > (uint64_t)(INT64_MAX - now) ? (uint64_t)(INT64_MAX - now) : op->off;
    op->off = (uint64_t)(now + (int64_t)rel);
    op->op_flags |= ARIO_TIMEOUT_ABS;
  }
  op->state = ARIO__TIMER;
  heap_push(l, i);
}

static int op_matches(const ario_loop *l, const ario__op *c, ario__idx k) {
  const ario__op *t = &l->ops[k];
  if (t->state != ARIO__WAITING && t->state != ARIO__TIMER && t->state != ARIO__POOL) return 0;
  if (t->op == ARIO_OP_LINK_TIMEOUT || (t->state == ARIO__POOL && t->op == ARIO_OP_CLOSE)) return 0;
  if (c->op_flags & ARIO_CANCEL_ANY) return 1;
  if (c->op_flags & ARIO_CANCEL_FD) /* a SPLICE or TEE by either fd, as CLOSE */
    return t->fd == c->fd || (ARIO__TWO_FDS(t->op) && (int32_t)t->addr == c->fd);
  return t->user_data == c->off;
}

/* What a cancelled op completes with: -ECANCELED, or for a RECV/SEND
 * family op that already moved bytes (MSG_WAITALL), that count, as the
 * kernel reports it. */
static int32_t cancelled_res(const ario__op *op) {
  switch (op->op) {
  case ARIO_OP_RECV:
  case ARIO_OP_SEND:
  case ARIO_OP_RECVFROM:
  case ARIO_OP_SENDTO:
    if (op->state == ARIO__WAITING && op->res > 0) return op->res;
    return -ECANCELED;
  default: return -ECANCELED;
  }
}

/* Runs CANCEL op `self`. As in the kernel, the cancel's own completion
 * comes first, then those of the ops it cancelled. With ARIO_CANCEL_ALL the
 * result is the count, 0 included; without, 0 or -ENOENT. */
static void do_cancel(ario_loop *l, ario__idx self) {
  ario__op *c = &l->ops[self];
  ario__idx head = ARIO_NIL, tail = ARIO_NIL;
  int32_t n = 0, running = 0; /* running: pool jobs found that cannot stop */
  for (uint32_t k = 0; k < ARIO__SLOTS(l) && !(running && !(c->op_flags & ARIO_CANCEL_ALL)); k++) {
    if (k == self || !op_matches(l, c, (ario__idx)k)) continue;
    ario__op *t = &l->ops[k];
    int32_t r = cancelled_res(t);
    if (detach(l, (ario__idx)k) < 0) {
      n++, running++; /* counted with ALL, as the kernel's -EALREADY matches */
      continue;
    }
    t->state = ARIO__QUEUED; /* out of every list, matched by nothing */
    t->res = r;
    t->next = ARIO_NIL;
    if (tail == ARIO_NIL) head = (ario__idx)k;
    else l->ops[tail].next = (ario__idx)k;
    tail = (ario__idx)k;
    n++;
    if (!(c->op_flags & ARIO_CANCEL_ALL)) break;
  }
  complete(l, self, (c->op_flags & ARIO_CANCEL_ALL) ? n : running ? -EALREADY : n ? 0 : -ENOENT);
  while (head != ARIO_NIL) {
    ario__idx k = head;
    head = l->ops[k].next;
    l->ops[k].next = ARIO_NIL;
    complete(l, k, l->ops[k].res);
  }
}

/* Cancels what waits on fd, then forgets it (CLOSE, ario_close). */
void ario__drop_fd(ario_loop *l, int32_t fd) {
  if (ARIO__COMPLETES(l)) {
    l->be->cancel_fd(l, fd);
    return;
  }
  uint32_t tail0 = l->ring_tail, s;
  for (uint32_t pass = tail0 - 1; pass != l->ring_tail;) { /* a completion may start an op on fd */
    pass = l->ring_tail;
    for (s = fd_find(l, fd); s != ARIO_NIL && l->fds[s].head != ARIO_NIL; s = fd_find(l, fd)) {
      ario__idx k = l->fds[s].head;
      unwait(l, k); /* its state stays WAITING: cancelled_res sees the bytes it moved */
      complete(l, k, cancelled_res(&l->ops[k]));
    }
    for (uint32_t k = 0; l->splices && k < ARIO__SLOTS(l); k++) /* waiting on their other fd */
      if (ARIO__TWO_FDS(l->ops[k].op) && l->ops[k].state == ARIO__WAITING &&
          (l->ops[k].fd == fd || (int32_t)l->ops[k].addr == fd)) {
        unwait(l, (ario__idx)k);
        complete(l, (ario__idx)k, -ECANCELED);
      }
    ario__pool_drop_fd(l, fd);
  }
  if ((s = fd_find(l, fd)) != ARIO_NIL) fd_erase(l, s);
  notify_waiter(l, tail0); /* ario_close() runs outside submit and reap */
}

static void start_one(ario_loop *l, ario__idx i);

/* Begins an op whose turn has come. An op that completes at once starts the
 * next of its chain; doing that by recursion would cost stack per chained
 * op (2 KiB for a 16-op chain on the ESP8266), so while one start runs,
 * later ones queue (through `next`, unused while QUEUED) and this loop
 * takes them in order. */
static void start(ario_loop *l, ario__idx i) {
  l->ops[i].next = ARIO_NIL;
  if (l->starting) {
    if (l->run_tail == ARIO_NIL) l->run_head = i;
    else l->ops[l->run_tail].next = i;
    l->run_tail = i;
    return;
  }
  l->starting = 1;
  for (;;) {
    start_one(l, i);
    i = l->run_head;
    if (i == ARIO_NIL) break;
    l->run_head = l->ops[i].next;
    if (l->run_head == ARIO_NIL) l->run_tail = ARIO_NIL;
    l->ops[i].next = ARIO_NIL;
  }
  l->starting = 0;
}

static void start_one(ario_loop *l, ario__idx i) {
  ario__op *op = &l->ops[i];
  int32_t res;
  if (is_link_timeout(l, op->link)) arm_timer(l, op->link);
  if (ario__pool_takes(l, op)) { /* OPENAT, FSYNC; READ[V]/WRITE[V] on a file */
    if ((res = ario__pool_start(l, i)) < 0) complete(l, i, res);
    return;
  }
  switch (op->op) {
  case ARIO_OP_NOP: complete(l, i, 0); return;
  case ARIO_OP_TIMEOUT:
    if (op->len) {
      op->len += l->cq_seq; /* the completion sequence number to wait for */
      op->events = COUNTED;
      l->counted_timeouts++;
    }
    arm_timer(l, i);
    return;
  case ARIO_OP_CANCEL: do_cancel(l, i); return;
  case ARIO_OP_CLOSE:
    ario__drop_fd(l, op->fd);
    if (!ario__pool_defer_close(l, i, op->fd)) complete(l, i, ario__try_io(l, op, 0));
    return;
  case ARIO_OP_SOCKET: complete(l, i, ario__try_io(l, op, 0)); return; /* never waits */
  case ARIO_OP_READ: case ARIO_OP_READV:
  case ARIO_OP_WRITE: case ARIO_OP_WRITEV:
  case ARIO_OP_ACCEPT:
  case ARIO_OP_ACCEPT_MULTI:
  case ARIO_OP_POLL:
    /* Wait for readiness first: these may block on a blocking fd. */
    wait_on_fd(l, i);
    return;
  default:
    /* RECV, SEND, RECVFROM, SENDTO, RECVMSG, SENDMSG (MSG_DONTWAIT), CONNECT, SHUTDOWN: try
     * at once, as io_uring does. */
    res = ario__try_io(l, op, 0);
    if (res == -EAGAIN) wait_on_fd(l, i);
    else complete(l, i, res);
  }
}

void ario__fd_ready(ario_loop *l, uint32_t s, unsigned revents) {
#if defined(ARIO_HAVE_SIM)
  if (ARIO__IS_SIM(l) && ario__sim_collect(l, s, revents)) return; /* it dispatches later */
#endif
  ario__fd *f = &l->fds[s];
  if (f->fd < 0) return;
  int32_t fd = f->fd;
  int idle = f->head == ARIO_NIL; /* nobody waits: the report is stale */
  ario__idx i = f->head;
  while (i != ARIO_NIL) {
    ario__op *op = &l->ops[i];
    ario__idx next = op->next;
    if (revents & (op->events | ARIO_POLL_ERR | ARIO_POLL_HUP | ARIO__POLL_NVAL)) {
      int32_t res = revents & ARIO__POLL_NVAL ? -EBADF : ario__try_io(l, op, revents);
      if (res != -EAGAIN || events_for(op) != op->events) { /* done, or a SPLICE/TEE turns */
        unwait(l, i);
        if (res == -EAGAIN) wait_on_fd(l, i);
        else complete(l, i, res);
        /* completing may have moved or emptied this fd's slot */
        s = fd_find(l, fd);
        if (s == ARIO_NIL) return;
        f = &l->fds[s];
      }
    }
    i = next;
    if (i != ARIO_NIL && (l->ops[i].state != ARIO__WAITING || l->ops[i].pos != s))
      i = f->head; /* the list changed under us: rescan from its head */
  }
  /* Interest is dropped when it reports with nobody waiting for it. An fd
   * whose waiters this report served stays armed: its next op usually comes
   * at once (a ping-pong re-arms with one MOD per wait instead of an
   * epoll ADD and DEL), and if none does, the next report drops it. */
  if (f->head == ARIO_NIL) {
    if (idle) fd_erase(l, s);
  } else if (f->armed & ~f->want & revents) {
    set_interest(l, s, f->want);
  }
}

static void expire_timers(ario_loop *l) {
  if (!l->heap_len) return;
  int64_t now = ario_now();
  while (l->heap_len && deadline_of(l, l->heap[0]) <= now) {
    ario__idx t = l->heap[0];
    ario__op *op = &l->ops[t];
    heap_remove(l, t);
    if (op->op == ARIO_OP_TIMEOUT) {
      if (op->events == COUNTED) l->counted_timeouts--;
      complete(l, t, -ETIME);
    } else {
      /* LINK_TIMEOUT: its target is the op that links to it. */
      ario__idx target = (ario__idx)op->addr2;
      uint8_t st = l->ops[target].state;
      int live = st == ARIO__WAITING || st == ARIO__TIMER || st == ARIO__POOL;
      int32_t r = cancelled_res(&l->ops[target]);
      int rc = live ? detach(l, target) : 0; /* -EALREADY: a running job goes on */
      if (rc < 0) l->ops[target].link = op->link; /* skip it: its slot is reused before the job ends */
      complete(l, t, rc < 0 ? rc : -ETIME);
      if (live && !rc) complete(l, target, r);
    }
  }
}

/* ----------------------------------------------------------- submission -- */

/* Ops that may take the reserved slots (ario_submit). */
static int is_special(uint8_t op) { return op == ARIO_OP_CANCEL || op == ARIO_OP_CLOSE; }

static ario__idx take_slot(ario_loop *l, const ario_sqe *e) {
  ario__idx i = (ario__idx)l->free_head;
  ario__op *op = &l->ops[i];
  l->free_head = op->next;
  l->inflight++;
  if (is_special(e->op)) l->special++;
  l->splices += ARIO__TWO_FDS(e->op);
  op->user_data = e->user_data;
  op->off = e->op == ARIO_OP_CANCEL && !(e->op_flags & ARIO_CANCEL_FD) ? e->addr : e->off;
  op->addr = (uintptr_t)e->addr;
  op->addr2 = (uintptr_t)e->addr2;
  op->len = e->len;
  op->op_flags = e->op_flags;
  op->fd = e->fd;
  op->res = 0;
  op->next = op->link = op->pos = ARIO_NIL;
  op->op = e->op;
  op->flags = e->flags;
  op->state = ARIO__QUEUED;
  op->events = 0;
  ario__buffers_use(l, op, 1);
  return i;
}

ARIO_API int ario_submit(ario_loop *l, const ario_sqe *sqes, uint32_t n) {
  uint32_t k = 0;
  if (!l || (!sqes && n)) return -EINVAL;
  uint32_t tail0 = l->ring_tail;
  while (k < n) {
    /* The chain starting at k: entries up to the first without a link flag. */
    uint32_t end = k;
    while (end < n && (sqes[end].flags & (ARIO_SQE_LINK | ARIO_SQE_HARDLINK)))
      end++;
    int open_ended = end == n; /* the batch ended inside a chain */
    if (open_ended) end = n - 1;
    uint32_t len = end - k + 1, ordinary = 0;
    for (uint32_t j = k; j <= end; j++) ordinary += !is_special(sqes[j].op);
    /* `entries` bounds the ordinary ops; CANCEL and CLOSE may also use the
     * reserved slots, so a table full of idle ops never blocks them */
    uint32_t room = l->entries - (l->inflight - l->special);
#if defined(ARIO_HAVE_SIM)
    if (ARIO__IS_SIM(l)) room = ario__sim_room(l, room, ordinary); /* a seeded full table */
#endif
    if (ordinary > room || len > ARIO__SLOTS(l) - l->inflight) break;

    /* Validate the whole chain; an invalid member fails it all, as io_uring
     * fails a link whose member cannot be prepared. */
    int32_t err = 0;
    uint32_t bad = 0;
    for (uint32_t j = k; j <= end && !err; j++) {
      err = ario__validate(&sqes[j], j > k ? &sqes[j - 1] : 0);
      bad = j;
    }
    if (!err && open_ended) {
      err = -EINVAL; /* a chain may not span submissions */
      bad = end;
    }

    ario__idx head = ARIO_NIL, prev = ARIO_NIL;
    for (uint32_t j = k; j <= end; j++) {
      ario__idx i = take_slot(l, &sqes[j]);
      if (prev != ARIO_NIL) l->ops[prev].link = i;
      else head = i;
      if (sqes[j].op == ARIO_OP_LINK_TIMEOUT) l->ops[i].addr2 = prev;
      prev = i;
    }
    if (!err && ARIO__COMPLETES(l)) {
      err = l->be->submit(l, head);
      bad = k;
    }
    if (err) {
      ario__idx i = head;
      for (uint32_t j = k; j <= end; j++) {
        ario__idx next = l->ops[i].link;
        l->ops[i].link = ARIO_NIL;
        complete(l, i, j == bad ? err : -ECANCELED);
        i = next;
      }
    } else if (!ARIO__COMPLETES(l)) {
      start(l, head);
    }
    k = end + 1;
  }
  if (ARIO__COMPLETES(l)) l->be->flush(l);
  notify_waiter(l, tail0);
  return (int)k;
}

/* -------------------------------------------------------------- reaping -- */

ARIO_API int ario_reap(ario_loop *l, ario_cqe *out, uint32_t max,
                       int64_t timeout_ns) {
  if (!l || (!out && max)) return -EINVAL;
  ario__pool_reap(l); /* a waiter may have taken the pool's wake-up */
  if (ario__has_cqe(l)) timeout_ns = 0;
  if (timeout_ns != 0 && l->heap_len) {
    int64_t until = deadline_of(l, l->heap[0]) - ario_now();
    if (until < 0) until = 0;
    if (timeout_ns < 0 || until < timeout_ns) timeout_ns = until;
  }
  int rc = l->be->poll(l, timeout_ns);
  if (rc < 0 && rc != -EINTR) return rc;
  ario__pool_reap(l);
  expire_timers(l);
  if (l->counted_timeouts && l->mores) check_counted_timeouts(l); /* see ario__post_more */

  uint32_t n = 0;
  while (n < max && ario__has_cqe(l)) {
    uint32_t h = l->ring_head;
    const ario__cqent *c = &l->ring[h & (l->ring_cap - 1)];
    ario__idx i = c->idx;
    ario__op *op = &l->ops[i];
    out[n].user_data = op->user_data;
    out[n].res = c->res;
    out[n].flags = c->flags | (uint32_t)c->bid << ARIO_CQE_BUFFER_SHIFT;
    n++;
    ARIO_STORE(&l->ring_head, h + 1, __ATOMIC_RELAXED); /* read by waiters */
    l->mores -= (c->flags & ARIO_CQE_F_MORE) != 0;
    if (c->flags & ARIO_CQE_F_MORE) continue; /* the op goes on, in its slot */
    ario__buffers_use(l, op, -1);
    if (is_special(op->op)) l->special--;
    l->splices -= ARIO__TWO_FDS(op->op);
    op->state = ARIO__FREE;
    op->next = (ario__idx)l->free_head;
    l->free_head = i;
    l->inflight--;
  }
  return (int)n;
}

ARIO_API int ario_wait(ario_loop *l, int64_t timeout_ns) {
  int rc = 1;
  ARIO_STORE(&l->waiting, 1, __ATOMIC_SEQ_CST);
#if defined(ARIO_HOST)
  __atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with notify_waiter() */
#endif
  int64_t d = ARIO_LOAD(&l->deadline, __ATOMIC_SEQ_CST);
  if (!ario__has_cqe(l)) {
    int64_t until = d == INT64_MAX ? -1 : d - ARIO__TIMER_LEAD(l) - ario_now();
    if (d != INT64_MAX && until <= 0) {
      rc = 1; /* a timer is due */
    } else if (until >= 0 && (timeout_ns < 0 || until < timeout_ns)) {
      rc = l->be->wait(l, until);
      if (rc == 0) rc = 1; /* the deadline passed: a timer is due */
    } else {
      rc = l->be->wait(l, timeout_ns);
    }
  }
  ARIO_STORE(&l->waiting, 0, __ATOMIC_SEQ_CST);
  return rc;
}

ARIO_API void ario_wake(ario_loop *l) { l->be->wake(l); }

ARIO_API void ario_deinit(ario_loop *l) {
  if (!l || !l->be) return;
#if !defined(ARIO_BARE) /* no doorbell thread (bell.c) without an OS */
  ario_bell_stop(l);
#endif
  ario__pool_stop(l); /* its threads wake the backend: before it goes */
  l->be->deinit(l);
  l->be = 0;
}
