/* Every field of every entry is checked at the edge: a field the op does not
 * read must be 0, flags and op_flags must be known for the op, READ/WRITE
 * offsets are an offset (<= INT64_MAX) or ARIO_OFF_CURRENT, buffer lengths
 * fit the int32 result, address lengths fit a sockaddr_storage, timeouts
 * above INT64_MAX ns are -EINVAL and a relative one that passes INT64_MAX
 * from now saturates (never fires) instead of wrapping. A rejected entry has
 * no effect (a bad CLOSE closes nothing). */
#include "test.h"
#include <fcntl.h>

static ario_loop *l;

static int32_t run1(ario_sqe e) {
  ario_cqe c[2];
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].user_data, e.user_data);
  return c[0].res;
}

#define EXPECT(e, want)                                                            \
  do {                                                                             \
    int32_t r_ = run1(e);                                                          \
    if (r_ != (want)) {                                                            \
      fprintf(stderr, "%s:%d: %s gave %d, expected %d\n", __FILE__, __LINE__, #e, \
              r_, (int)(want));                                                    \
      fails++;                                                                     \
    }                                                                              \
  } while (0)

int main(void) {
  l = t_loop(16);
  int fails = 0;
  int s[2];
  t_unix_pair(s);
  static char buf[64];
  static unsigned char sa[256];
  uint32_t salen = 16;
  ario_sqe e;
  uintptr_t b = (uintptr_t)buf;

  /* unused fields of NOP */
  e = t_sqe(ARIO_OP_NOP, -1, 1); EXPECT(e, 0);
  e = t_sqe(ARIO_OP_NOP, 5, 1); EXPECT(e, 0); /* fd is ignored where unused */
  e = t_sqe(ARIO_OP_NOP, -1, 1); e.addr = b; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_NOP, -1, 1); e.addr2 = b; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_NOP, -1, 1); e.len = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_NOP, -1, 1); e.off = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_NOP, -1, 1); e.op_flags = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_NOP, -1, 1); e.reserved = 0x100; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_NOP, -1, 1); e.flags = 0x04; EXPECT(e, -EINVAL);

  /* READ / WRITE */
  e = t_sqe(ARIO_OP_READ, s[0], 2); e.addr = b; e.len = 4; e.off = ARIO_OFF_CURRENT - 1;
  EXPECT(e, -EINVAL); /* -2 */
  e.off = (uint64_t)INT64_MAX + 1; EXPECT(e, -EINVAL);
  e.off = ARIO_OFF_CURRENT; e.op_flags = 1; EXPECT(e, -EINVAL); /* no RWF_* */
  e.op_flags = 0; e.addr2 = b; EXPECT(e, -EINVAL);
  e.addr2 = 0; e.len = 0x80000000u; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_WRITE, s[0], 2); e.addr = b; e.len = 0xFFFFFFFFu; e.off = ARIO_OFF_CURRENT;
  EXPECT(e, -EINVAL);

  /* RECV / SEND / RECVFROM / SENDTO */
  e = t_sqe(ARIO_OP_RECV, s[0], 3); e.addr = b; e.len = 4; e.off = 1; EXPECT(e, -EINVAL);
  e.off = 0; e.addr2 = b; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_SEND, s[0], 3); e.addr = b; e.len = 0x80000000u; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_RECV, s[0], 3); e.addr = b; e.len = 4; e.op_flags = MSG_ERRQUEUE;
  EXPECT(e, -EINVAL); /* readable, then EAGAIN for ever on readiness backends */
  e.op_flags = 0x80000000u; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_SEND, s[0], 3); e.addr = b; e.len = 1; e.op_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  EXPECT(e, 1);
  {
    char t[4];
    CHECK(read(s[1], t, sizeof t) == 1);
  }
  e = t_sqe(ARIO_OP_SENDTO, s[0], 3); e.addr = b; e.len = 1; e.addr2 = (uintptr_t)sa;
  e.off = sizeof sa; EXPECT(e, -EINVAL); /* longer than any sockaddr */
  e = t_sqe(ARIO_OP_RECVFROM, s[0], 3); e.addr = b; e.len = 0x80000000u;
  e.addr2 = (uintptr_t)sa; e.off = (uintptr_t)&salen; EXPECT(e, -EINVAL);

  /* ACCEPT / CONNECT / CLOSE / SHUTDOWN / POLL */
  e = t_sqe(ARIO_OP_ACCEPT, s[0], 4); e.len = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_ACCEPT, s[0], 4); e.addr = (uintptr_t)sa; EXPECT(e, -EFAULT);
  e = t_sqe(ARIO_OP_ACCEPT, s[0], 4); e.op_flags = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CONNECT, s[0], 4); e.addr = (uintptr_t)sa; e.len = 129; EXPECT(e, -EINVAL);
  e.len = 16; e.off = 1; EXPECT(e, -EINVAL);
  e.off = 0; e.op_flags = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CLOSE, s[1], 4); e.addr = b; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CLOSE, s[1], 4); e.len = 1; EXPECT(e, -EINVAL);
  CHECK(fcntl(s[1], F_GETFD) >= 0); /* the rejected CLOSE closed nothing */
  e = t_sqe(ARIO_OP_SHUTDOWN, s[0], 4); e.off = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_SHUTDOWN, s[0], 4); e.addr = b; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_POLL, s[0], 4); e.op_flags = ARIO_POLL_IN; e.len = 1; EXPECT(e, -EINVAL);
  e.len = 0; e.addr = b; EXPECT(e, -EINVAL);

  /* TIMEOUT / LINK_TIMEOUT */
  e = t_sqe(ARIO_OP_TIMEOUT, -1, 5); e.off = 1; e.addr = b; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_TIMEOUT, -1, 5); e.off = UINT64_MAX; EXPECT(e, -EINVAL);
  e.off = (uint64_t)1 << 63; EXPECT(e, -EINVAL);
  e.op_flags = ARIO_TIMEOUT_ABS; EXPECT(e, -EINVAL);
  e.op_flags = 2; e.off = 1; EXPECT(e, -EINVAL);
  {
    ario_sqe ch[2];
    ch[0] = t_sqe(ARIO_OP_POLL, s[0], 50); ch[0].op_flags = ARIO_POLL_IN; ch[0].flags = ARIO_SQE_LINK;
    ch[1] = t_sqe(ARIO_OP_LINK_TIMEOUT, -1, 51); ch[1].off = 1000000; ch[1].len = 1;
    ario_cqe c[4];
    CHECK_EQ(ario_submit(l, ch, 2), 2);
    CHECK_EQ(t_reap_n(l, c, 2), 2);
    CHECK_EQ(t_res_of(c, 2, 50), -ECANCELED);
    CHECK_EQ(t_res_of(c, 2, 51), -EINVAL);
  }
  /* the largest relative time saturates: armed, never fires, cancellable */
  {
    ario_sqe t[2];
    t[0] = t_sqe(ARIO_OP_TIMEOUT, -1, 60); t[0].off = (uint64_t)INT64_MAX;
    t[1] = t_sqe(ARIO_OP_TIMEOUT, -1, 61); t[1].off = (uint64_t)INT64_MAX - 5;
    ario_cqe c[4];
    CHECK_EQ(ario_submit(l, t, 2), 2);
    CHECK_EQ(ario_reap(l, c, 4, 20000000), 0); /* no wrap into a short timer */
    ario_sqe k = t_sqe(ARIO_OP_CANCEL, -1, 62); k.op_flags = ARIO_CANCEL_ANY | ARIO_CANCEL_ALL;
    CHECK_EQ(ario_submit(l, &k, 1), 1);
    CHECK_EQ(t_reap_n(l, c, 3), 3);
    CHECK_EQ(t_res_of(c, 3, 60), -ECANCELED);
    CHECK_EQ(t_res_of(c, 3, 61), -ECANCELED);
    CHECK_EQ(t_res_of(c, 3, 62), 2);
  }

  /* CANCEL */
  e = t_sqe(ARIO_OP_CANCEL, s[0], 6); e.op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ANY; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CANCEL, s[0], 6); e.op_flags = ARIO_CANCEL_FD; e.addr = 3; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CANCEL, -1, 6); e.op_flags = ARIO_CANCEL_ANY; e.addr = 3; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CANCEL, -1, 6); e.addr = 12345; e.len = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CANCEL, -1, 6); e.addr = 12345; e.off = 1; EXPECT(e, -EINVAL);
  e = t_sqe(ARIO_OP_CANCEL, -1, 6); e.addr = 12345; EXPECT(e, -ENOENT);
  e = t_sqe(ARIO_OP_CANCEL, -1, 6); e.op_flags = 0x08; EXPECT(e, -EINVAL);

  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return fails ? T_EXIT_FAIL : T_EXIT_PASS;
}
