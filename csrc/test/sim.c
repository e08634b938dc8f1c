/* sim.c: the simulation backend's faults keep the core's contract. A
 * seeded loop (ARIO_BACKEND_SIM, whatever ARIO_BACKEND says) moves a
 * stream over a socketpair under short transfers, EINTR, EAGAIN and
 * reordered readiness: no byte lost, duplicated or reordered; MSG_WAITALL
 * still completes whole; the same seed gives the same results; a seeded
 * table takes fewer entries; reset faults end the connection with
 * ECONNRESET, and the peer sees the end. */
#include "test.h"

static _Alignas(16) unsigned char sim_mem[1 << 20];

static ario_loop *sim_loop(const char *seed, const char *faults) {
  ario_params p = {.entries = 16, .backend = ARIO_BACKEND_SIM};
  signal(SIGPIPE, SIG_IGN);
  setenv("ARIO_SIM_SEED", seed, 1);
  setenv("ARIO_SIM_FAULTS", faults, 1);
  size_t need = ario_mem_size(&p);
#if defined(_WIN32)
  if (!need) { /* backend/sim.c is built for POSIX hosts only */
    printf("SKIP: no sim backend on Windows\n");
    exit(77);
  }
#endif
  CHECK(need > 0 && need <= sizeof sim_mem);
  CHECK_EQ(ario_init(sim_mem, sizeof sim_mem, &p), 0);
  ario_loop *l = (ario_loop *)sim_mem;
  CHECK_EQ(ario_backend(l), ARIO_BACKEND_SIM);
  return l;
}

static void pair(int s[2]) {
  t_unix_pair(s);
}

/* Runs one op to completion; returns its result. */
static int32_t run(ario_loop *l, ario_sqe e) {
  ario_cqe c;
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  CHECK_EQ(t_reap_n(l, &c, 1), 1);
  CHECK_EQ(c.user_data, e.user_data);
  return c.res;
}

/* Sends `len` pattern bytes from s[0] in pieces and receives them on s[1];
 * records each RECV result in out[] (up to cap). Returns how many. */
static int stream(ario_loop *l, int s[2], uint32_t len, uint32_t recv_flags, int32_t *out,
                  int cap) {
  static unsigned char tx[65536], rx[65536];
  CHECK(len <= sizeof tx);
  for (uint32_t i = 0; i < len; i++) tx[i] = (unsigned char)(i * 31 + 7);
  memset(rx, 0, len);
  uint32_t sent = 0, got = 0;
  int k = 0;
  while (got < len) {
    if (sent < len) {
      ario_sqe e = t_sqe(ARIO_OP_SEND, s[0], 1);
      e.addr = (uint64_t)(uintptr_t)(tx + sent);
      e.len = len - sent;
      int32_t r = run(l, e);
      CHECK(r > 0 && (uint32_t)r <= len - sent);
      sent += (uint32_t)r;
    }
    ario_sqe e = t_sqe(ARIO_OP_RECV, s[1], 2);
    e.addr = (uint64_t)(uintptr_t)(rx + got);
    e.len = recv_flags ? sent - got : len - got;
    e.op_flags = recv_flags;
    int32_t r = run(l, e);
    CHECK(r > 0 && (uint32_t)r <= len - got);
    if (recv_flags) CHECK_EQ(r, sent - got); /* MSG_WAITALL: all it asked for */
    if (k < cap) out[k] = r;
    k++;
    got += (uint32_t)r;
  }
  CHECK(memcmp(tx, rx, len) == 0);
  return k;
}

int main(void) {
  int s[2];
  int32_t a[4096], b[4096], c[4096];

  /* faults everywhere: the bytes arrive whole and in order */
  ario_loop *l = sim_loop("1", "shuffle,delay=0.5,spurious=0.5,short=0.9,eagain=0.5,eintr=0.5");
  pair(s);
  int na = stream(l, s, 60000, 0, a, 4096);
  CHECK(na > 1); /* short receives happened */
  stream(l, s, 60000, MSG_WAITALL, c, 4096);
  ario_deinit(l);
  close(s[0]);
  close(s[1]);

  /* the same seed, the same scripted run: the same results */
  l = sim_loop("1", "shuffle,delay=0.5,spurious=0.5,short=0.9,eagain=0.5,eintr=0.5");
  pair(s);
  int nb = stream(l, s, 60000, 0, b, 4096);
  CHECK_EQ(nb, na);
  CHECK(memcmp(a, b, (size_t)(na < 4096 ? na : 4096) * sizeof a[0]) == 0);
  ario_deinit(l);
  close(s[0]);
  close(s[1]);

  /* no faults: one receive moves everything */
  l = sim_loop("1", "none");
  pair(s);
  CHECK_EQ(stream(l, s, 60000, 0, a, 4096), 1);
  ario_deinit(l);
  close(s[0]);
  close(s[1]);

  /* a seeded table of 4: ario_submit takes 4 of 10 NOPs, the rest later */
  l = sim_loop("1", "table=4");
  ario_sqe e[10];
  for (int i = 0; i < 10; i++) e[i] = t_sqe(ARIO_OP_NOP, -1, (uint64_t)i);
  CHECK_EQ(ario_submit(l, e, 10), 4);
  ario_cqe cq[16];
  CHECK_EQ(t_reap_n(l, cq, 4), 4);
  CHECK_EQ(ario_submit(l, e + 4, 6), 4);
  CHECK_EQ(t_reap_n(l, cq, 4), 4);
  CHECK_EQ(ario_submit(l, e + 8, 2), 2);
  CHECK_EQ(t_reap_n(l, cq, 2), 2);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);

  /* reset faults: a receive fails ECONNRESET, the peer reads the end */
  l = sim_loop("1", "reset=0.9");
  pair(s);
  CHECK(write(s[0], "hello", 5) == 5);
  unsigned char buf[16];
  ario_sqe r = t_sqe(ARIO_OP_RECV, s[1], 3);
  r.addr = (uint64_t)(uintptr_t)buf;
  r.len = sizeof buf;
  int32_t res = run(l, r);
  for (int i = 0; i < 50 && res > 0; i++) res = run(l, r);
  CHECK(res == -ECONNRESET);
  CHECK_EQ(read(s[0], buf, sizeof buf), 0); /* shut down for real: the peer reads the end */
  ario_deinit(l);
  close(s[0]);
  close(s[1]);
  return T_EXIT_PASS;
}
