/*
 * backend/sim.c: a deterministic simulation backend (after TigerBeetle's
 * VOPR). It runs real descriptors through the poll backend, but a seeded
 * PRNG decides what a real kernel would be free to decide:
 *
 *   - readiness: the order the ready set is reported in (shuffled), ready
 *     fds held back for a few reaps, spurious readiness (an fd reported
 *     ready whose attempt then gets EAGAIN: the core must keep waiting);
 *   - the non-blocking attempt (ops.c calls ario__sim_try_io): short reads
 *     and writes on streams, EAGAIN, EINTR inside the syscall loops, and,
 *     only when asked for, ECONNRESET on a receive and EPIPE on a send (the
 *     socket is really shut down, so the peer sees the end too);
 *   - the table: a seeded capacity below `entries`, so ario_submit takes
 *     fewer entries and the caller's queue overflow path runs.
 *
 * Environment, read at ario_init (a caller sets it before each loop):
 *   ARIO_SIM_SEED    64-bit seed, decimal or 0x hex (default 0x5eed)
 *   ARIO_SIM_FAULTS  comma list of name[=probability]: shuffle, delay,
 *                    spurious, short, eagain, eintr, reset, table[=n];
 *                    "none" for none; default every fault but reset, at
 *                    the rates below. table=n: capacity n (0: seeded, in
 *                    16..48, never above entries).
 * Nothing is printed.
 *
 * Replay: the sim's decisions come from one PRNG stream per loop, drawn in
 * the order the core asks. The same seed and the same sequence of questions
 * give the same answers exactly; the questions themselves depend on what
 * the kernel did (how much data a loopback socket had when it was tried,
 * when a timer expired: timers keep the real monotonic clock), so a replay
 * follows the failing run closely but not necessarily step for step.
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_SIM)
#include <limits.h>

#ifndef PIPE_BUF
#define PIPE_BUF 512
#endif

/* Probabilities in 1/2^32; each capped at MAX_P so nothing loops for ever. */
#define P(x) ((uint32_t)((x) * 4294967295.0))
#define MAX_P P(0.9)

typedef struct sim_ready {
  uint32_t slot, revents;
  int32_t fd;
  uint32_t spurious;
} sim_ready;

typedef struct sim_hold {
  int32_t fd;     /* the fd the count is for (slots move) */
  uint32_t count; /* reaps it is still held back for */
} sim_hold;

typedef struct sim_state {
  uint64_t rng;
  uint32_t p_delay, p_spurious, p_short, p_eagain, p_eintr, p_reset;
  uint32_t shuffle;
  uint32_t cap;      /* table capacity offered, 0: entries */
  uint32_t n_ready;
  uint32_t collecting;
  int32_t spurious_fd; /* attempts on this fd get EAGAIN (-1: none) */
  uint32_t pad;
} sim_state;

static size_t base_size(uint32_t fd_cap) {
  return (ario__backend_poll.mem_size(fd_cap) + 15u) & ~(size_t)15u;
}

static sim_state *S(const ario_loop *l) { return (sim_state *)((char *)l->bs.poll.mem + base_size(l->fd_cap)); }
static sim_ready *ready_of(const ario_loop *l) { return (sim_ready *)(S(l) + 1); }
static sim_hold *hold_of(const ario_loop *l) { return (sim_hold *)(ready_of(l) + l->fd_cap); }

static size_t sim_mem_size(uint32_t fd_cap) {
  return base_size(fd_cap) + sizeof(sim_state) + fd_cap * sizeof(sim_ready) +
         fd_cap * sizeof(sim_hold);
}

/* splitmix64: one 64-bit state, a full-period stream. */
static uint64_t next(sim_state *s) {
  uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int chance(sim_state *s, uint32_t p) { return p && (uint32_t)(next(s) >> 32) < p; }

/* A uniform integer in [0, n), n > 0. */
static uint32_t below(sim_state *s, uint32_t n) {
  return (uint32_t)(((next(s) >> 32) * (uint64_t)n) >> 32);
}

static uint32_t prob(const char *v, uint32_t dflt) {
  if (!v) return dflt;
  double d = strtod(v, 0);
  if (!(d > 0)) return 0;
  uint32_t p = d >= 1 ? MAX_P : P(d);
  return p > MAX_P ? MAX_P : p;
}

static void configure(ario_loop *l, sim_state *s) {
  const char *seed = getenv("ARIO_SIM_SEED");
  const char *f = getenv("ARIO_SIM_FAULTS");
  s->rng = seed && *seed ? (uint64_t)strtoull(seed, 0, 0) : 0x5eedull;
  s->spurious_fd = -1;
  uint32_t table = 0;
  int want_table = 0;
  if (!f || !*f) { /* the default: everything that does not end a connection */
    s->shuffle = 1;
    s->p_delay = P(0.1);
    s->p_spurious = P(0.05);
    s->p_short = P(0.3);
    s->p_eagain = P(0.1);
    s->p_eintr = P(0.1);
    want_table = 1;
  } else {
    char buf[256];
    size_t n = strlen(f);
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, f, n);
    buf[n] = 0;
    for (char *tok = buf; tok && *tok;) {
      char *comma = strchr(tok, ',');
      if (comma) *comma = 0;
      char *eq = strchr(tok, '=');
      const char *v = 0;
      if (eq) {
        *eq = 0;
        v = eq + 1;
      }
      if (!strcmp(tok, "shuffle")) s->shuffle = !v || strtod(v, 0) > 0;
      else if (!strcmp(tok, "delay")) s->p_delay = prob(v, P(0.1));
      else if (!strcmp(tok, "spurious")) s->p_spurious = prob(v, P(0.05));
      else if (!strcmp(tok, "short")) s->p_short = prob(v, P(0.3));
      else if (!strcmp(tok, "eagain")) s->p_eagain = prob(v, P(0.1));
      else if (!strcmp(tok, "eintr")) s->p_eintr = prob(v, P(0.1));
      else if (!strcmp(tok, "reset")) s->p_reset = prob(v, P(0.002));
      else if (!strcmp(tok, "table")) {
        want_table = 1;
        table = v ? (uint32_t)strtoul(v, 0, 0) : 0;
      }
      tok = comma ? comma + 1 : 0;
    }
  }
  if (want_table) {
    uint32_t cap = table ? table : 16 + below(s, 33);
    s->cap = cap < l->entries ? cap : 0;
  }
}

static int sim_init(ario_loop *l, void *mem) {
  int rc = ario__backend_poll.init(l, mem);
  if (rc < 0) return rc;
  sim_state *s = S(l);
  memset(s, 0, sizeof *s);
  configure(l, s);
  sim_hold *h = hold_of(l);
  for (uint32_t i = 0; i < l->fd_cap; i++) {
    h[i].fd = -1;
    h[i].count = 0;
  }
  return 0;
}

int ario__sim_collect(ario_loop *l, uint32_t slot, unsigned revents) {
  sim_state *s = S(l);
  if (!s->collecting) return 0;
  if (s->n_ready < l->fd_cap) {
    sim_ready *r = &ready_of(l)[s->n_ready++];
    r->slot = slot;
    r->revents = revents;
    r->fd = l->fds[slot].fd;
    r->spurious = 0;
  }
  return 1;
}

/* The slot fd is in now (dispatching earlier entries may move slots). */
static uint32_t slot_of(const ario_loop *l, uint32_t slot, int32_t fd) {
  if (l->fds[slot].fd == fd) return slot;
  for (uint32_t k = 0; k < l->fd_cap; k++)
    if (l->fds[k].fd == fd) return k;
  return ARIO_NIL;
}

static int sim_poll(ario_loop *l, int64_t timeout_ns) {
  sim_state *s = S(l);
  sim_ready *rd = ready_of(l);
  sim_hold *hold = hold_of(l);
  s->n_ready = 0;
  s->collecting = 1;
  int rc = ario__backend_poll.poll(l, timeout_ns);
  s->collecting = 0;
  if (rc < 0) return rc;
  uint32_t n = s->n_ready;

  /* Spurious readiness: a watched fd that did not report, reported with
   * what its waiters want. */
  if (chance(s, s->p_spurious) && n < l->fd_cap) {
    uint32_t start = below(s, l->fd_cap);
    for (uint32_t k = 0; k < l->fd_cap; k++) {
      uint32_t slot = (start + k) & (l->fd_cap - 1);
      const ario__fd *f = &l->fds[slot];
      if (f->fd < 0 || f->head == ARIO_NIL || !f->want) continue;
      int seen = 0;
      for (uint32_t j = 0; j < n && !seen; j++) seen = rd[j].fd == f->fd;
      if (seen) continue;
      rd[n].slot = slot;
      rd[n].revents = f->want;
      rd[n].fd = f->fd;
      rd[n].spurious = 1;
      n++;
      break;
    }
  }

  if (s->shuffle) /* Fisher-Yates */
    for (uint32_t j = n; j > 1; j--) {
      uint32_t k = below(s, j);
      sim_ready t = rd[j - 1];
      rd[j - 1] = rd[k];
      rd[k] = t;
    }

  for (uint32_t j = 0; j < n; j++) {
    sim_ready r = rd[j];
    if (!r.spurious) { /* delayed readiness, counted in reaps it reports in */
      sim_hold *h = &hold[r.slot];
      if (h->fd != r.fd) {
        h->fd = r.fd;
        h->count = 0;
      }
      if (h->count) {
        h->count--;
        continue;
      }
      if (chance(s, s->p_delay)) {
        h->count = below(s, 3); /* this reap and up to 2 more */
        continue;
      }
    }
    uint32_t slot = slot_of(l, r.slot, r.fd);
    if (slot == ARIO_NIL) continue;
    if (r.spurious) s->spurious_fd = r.fd;
    ario__fd_ready(l, slot, r.revents);
    s->spurious_fd = -1;
  }
  return rc;
}

int ario__sim_eintr(ario_loop *l) { return chance(S(l), S(l)->p_eintr); }

/* `room`: what the core offers (entries less the ordinary ops in flight);
 * `need`: the ordinary ops of the chain at hand. The seeded table is `cap`
 * entries, except for a chain longer than that: the caller may hold one up
 * to `entries` long, and a real table takes it once that much is free. */
uint32_t ario__sim_room(ario_loop *l, uint32_t room, uint32_t need) {
  sim_state *s = S(l);
  uint32_t cut = s->cap ? l->entries - s->cap : 0;
  if (!cut || room >= l->entries || need > s->cap) return room;
  return room > cut ? room - cut : 0;
}


/* SOCK_STREAM, SOCK_DGRAM..., or 0 for what is not a socket. */
static int sock_type(int fd) {
  int t = 0;
  socklen_t sl = sizeof t;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, (void *)&t, &sl) < 0) return 0;
  return t;
}

/* Whether the fd reports `events` (or an error or hang-up) right now: an
 * EAGAIN injected then is followed by a readiness report, as after a real
 * one. Where the kernel would answer at once and never report (RECV on a
 * listener: ENOTCONN), no EAGAIN is made up. */
static int ready_now(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, 0) == 1 && !(p.revents & POLLNVAL) &&
         (p.revents & (events | POLLERR | POLLHUP));
}

/* EAGAIN for this attempt: a spurious report (only the attempts the report
 * itself makes: revents set), or a seeded one on a ready fd. */
static int fake_eagain(sim_state *s, const ario__op *op, unsigned revents, short events) {
  if (revents && op->fd == s->spurious_fd) return 1;
  return chance(s, s->p_eagain) && ready_now(op->fd, events);
}

int32_t ario__sim_try_io(ario_loop *l, ario__op *op, unsigned revents,
                         int32_t (*attempt)(ario_loop *, ario__op *, unsigned)) {
  sim_state *s = S(l);
  int transfer = 0, is_send = 0;
  switch (op->op) {
  case ARIO_OP_RECV:
  case ARIO_OP_RECVFROM: transfer = 1; break;
  case ARIO_OP_SEND:
  case ARIO_OP_SENDTO: transfer = 1; is_send = 1; break;
  case ARIO_OP_READ: break;
  case ARIO_OP_WRITE: is_send = 1; break;
  case ARIO_OP_ACCEPT:
  case ARIO_OP_ACCEPT_MULTI:
    if (fake_eagain(s, op, revents, POLLIN)) return -EAGAIN;
    return attempt(l, op, revents);
  case ARIO_OP_CONNECT:
    /* the first attempt must reach connect(2); EINTR there is ops.c's */
    if (revents && fake_eagain(s, op, revents, POLLOUT)) return -EAGAIN;
    return attempt(l, op, revents);
  case ARIO_OP_POLL:
    if (revents && op->fd == s->spurious_fd) return -EAGAIN;
    return attempt(l, op, revents);
  default: return attempt(l, op, revents); /* CLOSE, SHUTDOWN */
  }
  if (fake_eagain(s, op, revents, is_send ? POLLOUT : POLLIN)) return -EAGAIN;
  int type = sock_type(op->fd);
  if (type == SOCK_STREAM && chance(s, s->p_reset) && ario__sys_has_peer(op->fd)) {
    shutdown(op->fd, SHUT_RDWR); /* the connection really ends */
    uint32_t done = transfer ? (uint32_t)op->res : 0; /* MSG_WAITALL progress */
    if (done) return (int32_t)done;
    return is_send ? -EPIPE : -ECONNRESET;
  }
  uint32_t done = transfer ? (uint32_t)op->res : 0;
  uint32_t want = op->len > done ? op->len - done : 0;
  int streamy = type == SOCK_STREAM || (type == 0 && !(is_send && want <= PIPE_BUF));
  if (!streamy || want < 2 || !chance(s, s->p_short)) return attempt(l, op, revents);
  uint32_t len = op->len;
  /* 1..want-1 bytes this time, small clips as likely as large ones */
  uint32_t span = want - 1;
  if (span > 16 && (next(s) & 1)) span = 16;
  op->len = done + 1 + below(s, span);
  int32_t r = attempt(l, op, revents);
  op->len = len;
#ifdef MSG_WAITALL
  /* MSG_WAITALL: the clip was this attempt's, the op goes on */
  if (transfer && (op->op_flags & MSG_WAITALL) && r > (int32_t)done && (uint32_t)r < len) {
    op->res = r;
    return -EAGAIN;
  }
#endif
  return r;
}

/* The rest is the poll backend's. */
static void sim_deinit(ario_loop *l) { ario__backend_poll.deinit(l); }
static int sim_watch(ario_loop *l, uint32_t slot, unsigned want) {
  return ario__backend_poll.watch(l, slot, want);
}
static void sim_forget(ario_loop *l, uint32_t slot) {
  hold_of(l)[slot].fd = -1;
  ario__backend_poll.forget(l, slot);
}
static int sim_wait_ready(ario_loop *l, int64_t timeout_ns) { return ario__backend_poll.wait(l, timeout_ns); }
static void sim_wake(ario_loop *l) { ario__backend_poll.wake(l); }

const ario__backend ario__backend_sim = ARIO__READINESS_BACKEND(ARIO_BACKEND_SIM, sim);
#endif
