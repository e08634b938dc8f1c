/*
 * diff_msg.h: the differential scenarios of READV, WRITEV, RECVMSG and
 * SENDMSG, included by diff_scenarios.h (its helpers, runner T and
 * conventions).
 */
static ario_iovec IV[8];
static ario_msghdr MH[2];

static ario_sqe e_vec(uint8_t op, int fd, int first, uint32_t n, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(op, fd, ud);
  e.addr = (uintptr_t)&IV[first]; e.len = n; e.off = ARIO_OFF_CURRENT; e.flags = fl;
  return e;
}
static ario_sqe e_msg(uint8_t op, int fd, int m, uint32_t opf, uint64_t ud, uint8_t fl) {
  ario_sqe e = t_sqe(op, fd, ud);
  e.addr = (uintptr_t)&MH[m]; e.op_flags = opf; e.flags = fl;
  return e;
}
static void iov(int k, void *p, uint64_t len) { IV[k] = (ario_iovec){(uintptr_t)p, len}; }

/* The fields RECVMSG wrote back, as records after the completions. */
static void record_msg(T *t, int m, uint64_t ud) {
  rec r[3] = {{ud, (int32_t)MH[m].namelen, 0}, {ud + 1, (int32_t)MH[m].controllen, 0},
              {ud + 2, MH[m].flags & (MSG_TRUNC | MSG_CTRUNC | MSG_EOR), 0}};
  record(t, r, 3);
}

/* WRITEV of 3 buffers, then a READV of 12 that finds the 9: short, the link breaks. */
static void sc_writev_readv_short(T *t) {
  int p[2];
  pipe_pair(t, p);
  memset(B, 0, sizeof B);
  iov(0, "abc", 3), iov(1, "", 0), iov(2, "defghi", 6);
  iov(3, B[0], 2), iov(4, B[1], 10);
  ario_sqe s[3] = {e_vec(ARIO_OP_WRITEV, p[1], 0, 3, 10, L), e_vec(ARIO_OP_READV, p[0], 3, 2, 11, L),
                   e_nop(12, 0)};
  sub(t, s, 3);
  upto(t, 3);
  rec r = {20, memcmp(B[0], "ab", 2) || memcmp(B[1], "cdefghi", 7), 0};
  record(t, &r, 1);
}

/* A READV that waits on an empty pipe, then is filled exactly: the link holds. */
static void sc_readv_later(T *t) {
  int p[2];
  pipe_pair(t, p);
  iov(0, B[0], 3), iov(1, B[1], 3);
  ario_sqe s[2] = {e_vec(ARIO_OP_READV, p[0], 0, 2, 10, L), e_nop(11, 0)};
  sub(t, s, 2);
  settle(t, 5);
  CHECK_EQ(write(p[1], "abcdef", 6), 6);
  upto(t, 2);
}

/* SENDMSG with SCM_RIGHTS linked to a RECVMSG with room for it, then a
 * RECVMSG whose control buffer is too small (MSG_CTRUNC). */
static void sc_msg_rights(T *t) {
  static union {
    struct cmsghdr h;
    unsigned char b[CMSG_SPACE(sizeof(int))];
  } out, in;
  static unsigned char small[8];
  int sp[2], p[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == 0);
  keep(t, sp[0]), keep(t, sp[1]);
  pipe_pair(t, p);
  memset(&out, 0, sizeof out);
  out.h.cmsg_level = SOL_SOCKET, out.h.cmsg_type = SCM_RIGHTS, out.h.cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(&out.h), &p[1], sizeof(int));
  iov(0, "xy", 2), iov(1, B[0], 8);
  MH[0] = (ario_msghdr){.iov = (uintptr_t)&IV[0], .iovlen = 1, .control = (uintptr_t)&out,
                        .controllen = sizeof out};
  MH[1] = (ario_msghdr){.iov = (uintptr_t)&IV[1], .iovlen = 1, .control = (uintptr_t)&in,
                        .controllen = sizeof in};
  ario_sqe s[2] = {e_msg(ARIO_OP_SENDMSG, sp[0], 0, 0, 10, L), e_msg(ARIO_OP_RECVMSG, sp[1], 1, 0, 11, 0)};
  sub(t, s, 2);
  upto(t, 2);
  int fd = -1;
  memcpy(&fd, CMSG_DATA(&in.h), sizeof fd);
  rec r = {20, in.h.cmsg_type == SCM_RIGHTS && fd >= 0 && write(fd, "!", 1) == 1, 0};
  record(t, &r, 1);
  if (fd >= 0) close(fd);
  record_msg(t, 1, 30);
  MH[1].control = (uintptr_t)small, MH[1].controllen = sizeof small;
  sub(t, s, 2); /* the same pair again: the descriptor does not fit */
  upto(t, 4);
  record_msg(t, 1, 40);
}

/* A UDP datagram through SENDMSG (a name, two buffers) into a RECVMSG of
 * 3 bytes: MSG_TRUNC, and the sender's length. */
static void sc_msg_udp_trunc(T *t) {
  static struct sockaddr_in a, from;
  socklen_t al = sizeof a;
  int u1 = keep(t, socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  int u2 = keep(t, socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  CHECK(bind(u1, (void *)&a, sizeof a) == 0 && getsockname(u1, (void *)&a, &al) == 0);
  iov(0, "he", 2), iov(1, "llo", 3), iov(2, B[0], 3);
  MH[0] = (ario_msghdr){.name = (uintptr_t)&a, .namelen = sizeof a, .iov = (uintptr_t)&IV[0], .iovlen = 2};
  MH[1] = (ario_msghdr){.name = (uintptr_t)&from, .namelen = sizeof from, .iov = (uintptr_t)&IV[2],
                        .iovlen = 1};
  ario_sqe s[3] = {e_msg(ARIO_OP_RECVMSG, u1, 1, 0, 10, L), e_nop(11, 0), e_msg(ARIO_OP_SENDMSG, u2, 0, 0, 20, 0)};
  sub(t, s, 3);
  upto(t, 3);
  record_msg(t, 1, 30);
}

/* A pending RECVMSG, cancelled by user_data. */
static void sc_msg_cancel(T *t) {
  int p[2];
  pair(t, p);
  iov(0, B[0], 8);
  MH[0] = (ario_msghdr){.iov = (uintptr_t)&IV[0], .iovlen = 1};
  ario_sqe s[2] = {e_msg(ARIO_OP_RECVMSG, p[1], 0, 0, 10, 0), e_cancel(10, -1, 0, 20, 0)};
  sub(t, s, 1);
  settle(t, 5);
  sub(t, s + 1, 1);
  upto(t, 2);
}
