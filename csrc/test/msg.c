/* READV/WRITEV across iovec boundaries, RECVMSG/SENDMSG: SCM_RIGHTS
 * (received fd usable and close-on-exec), IP_PKTINFO/IPV6_PKTINFO on
 * loopback, MSG_CTRUNC with a small control buffer, MSG_TRUNC, bad fields. */
#include "test.h"
#if defined(_WIN32)
/* Windows: WSARecv/WSASend and WSARecvFrom/WSASendTo behind the same ops,
 * but this test passes descriptors and pipes through POSIX calls */
int main(void) {
  t_printf("SKIP: the test is POSIX (fd passing, pipes); Windows compiles the ops only\n");
  return T_EXIT_SKIP;
}
#else
#include <fcntl.h>
#include <sys/uio.h>

static ario_loop *l;

/* Runs one entry and returns its result. */
static int32_t run1(ario_sqe e) {
  ario_cqe c[1];
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  return c[0].res;
}

static ario_sqe vec_sqe(uint8_t op, int fd, const ario_iovec *v, uint32_t n) {
  ario_sqe e = t_sqe(op, fd, op);
  e.addr = t_addr(v);
  e.len = n;
  e.off = ARIO_OFF_CURRENT;
  return e;
}

static ario_sqe msg_sqe(uint8_t op, int fd, ario_msghdr *m) {
  ario_sqe e = t_sqe(op, fd, op);
  e.addr = t_addr(m);
  return e;
}

static void scatter_gather(void) {
  int p[2];
  CHECK_EQ(ario_pipe(p), 0);
  char a[3] = "abc", b[1] = "d", c[5] = "efghi";
  ario_iovec w[4] = {{t_addr(a), 3}, {0, 0}, {t_addr(b), 1}, {t_addr(c), 5}};
  CHECK_EQ(run1(vec_sqe(ARIO_OP_WRITEV, p[1], w, 4)), 9);
  char x[2], y[4], z[8];
  memset(z, 0, sizeof z);
  ario_iovec r[3] = {{t_addr(x), 2}, {t_addr(y), 4}, {t_addr(z), 8}};
  CHECK_EQ(run1(vec_sqe(ARIO_OP_READV, p[0], r, 3)), 9);
  CHECK(!memcmp(x, "ab", 2) && !memcmp(y, "cdef", 4) && !memcmp(z, "ghi", 3));
  ario_close(l, p[0]);
  ario_close(l, p[1]);

  /* at a file offset */
  char path[] = "/tmp/ario-msg-XXXXXX";
  int f = mkstemp(path);
  CHECK(f >= 0);
  unlink(path);
  ario_sqe e = vec_sqe(ARIO_OP_WRITEV, f, w, 4);
  e.off = 100;
  CHECK_EQ(run1(e), 9); /* a regular file: the file pool on readiness backends */
  memset(z, 0, sizeof z);
  ario_iovec r2[2] = {{t_addr(y), 4}, {t_addr(z), 8}};
  e = vec_sqe(ARIO_OP_READV, f, r2, 2);
  e.off = 102;
  CHECK_EQ(run1(e), 7);
  CHECK(!memcmp(y, "cdef", 4) && !memcmp(z, "ghi", 3));

  /* a short READV fails a soft link, a full one does not */
  ario_sqe s[2];
  s[0] = vec_sqe(ARIO_OP_READV, f, r2, 2);
  s[0].off = 104; /* 5 of 12 bytes */
  s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_NOP, -1, 99);
  ario_cqe cq[2];
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, cq, 2), 2);
  CHECK_EQ(t_res_of(cq, 2, ARIO_OP_READV), 5);
  CHECK_EQ(t_res_of(cq, 2, 99), -ECANCELED);
  s[0].off = 100;
  r2[1].len = 5; /* 4 + 5 = the 9 bytes there */
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, cq, 2), 2);
  CHECK_EQ(t_res_of(cq, 2, ARIO_OP_READV), 9);
  CHECK_EQ(t_res_of(cq, 2, 99), 0);
  close(f);
}

static void fd_passing(void) {
  int32_t sp[2], p[2];
  CHECK_EQ(ario_socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  CHECK_EQ(ario_pipe(p), 0);
  /* send the pipe's write end with one byte */
  union {
    struct cmsghdr h;
    unsigned char b[CMSG_SPACE(sizeof(int) * 2)];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  ctl.h.cmsg_level = SOL_SOCKET;
  ctl.h.cmsg_type = SCM_RIGHTS;
  ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(&ctl.h), &p[1], sizeof(int));
  char one = 'x';
  ario_iovec v = {t_addr(&one), 1};
  ario_msghdr m = {.iov = t_addr(&v), .iovlen = 1, .control = t_addr(&ctl),
                   .controllen = CMSG_SPACE(sizeof(int))};
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, sp[0], &m)), 1);

  /* receive it: the fd arrives close-on-exec, and writing it fills the pipe */
  union {
    struct cmsghdr h;
    unsigned char b[CMSG_SPACE(sizeof(int) * 4)];
  } in;
  memset(&in, 0, sizeof in);
  char got = 0;
  ario_iovec rv = {t_addr(&got), 1};
  ario_msghdr rm = {.iov = t_addr(&rv), .iovlen = 1, .control = t_addr(&in),
                    .controllen = sizeof in, .flags = -1};
  CHECK_EQ(run1(msg_sqe(ARIO_OP_RECVMSG, sp[1], &rm)), 1);
  CHECK_EQ(got, 'x');
  CHECK_EQ(rm.flags, 0);
  CHECK_EQ(rm.controllen, CMSG_SPACE(sizeof(int)));
  CHECK_EQ(in.h.cmsg_len, CMSG_LEN(sizeof(int)));
  CHECK_EQ(in.h.cmsg_level, SOL_SOCKET);
  CHECK_EQ(in.h.cmsg_type, SCM_RIGHTS);
  int fd;
  memcpy(&fd, CMSG_DATA(&in.h), sizeof fd);
  CHECK(fd >= 0 && fd != p[1]);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  CHECK_EQ(write(fd, "z", 1), 1);
  char zz = 0;
  CHECK_EQ(read(p[0], &zz, 1), 1);
  CHECK_EQ(zz, 'z');
  close(fd);

  /* MSG_CTRUNC: a control buffer too small for the fd; none arrives */
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, sp[0], &m)), 1);
  unsigned char small[4];
  rm.control = t_addr(small);
  rm.controllen = sizeof small;
  rm.flags = 0;
  CHECK_EQ(run1(msg_sqe(ARIO_OP_RECVMSG, sp[1], &rm)), 1);
  CHECK(rm.flags & MSG_CTRUNC);
  CHECK_EQ(rm.controllen, 0);

  /* MSG_CMSG_CLOEXEC is accepted (it is implied) */
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, sp[0], &m)), 1);
  rm.control = t_addr(&in);
  rm.controllen = sizeof in;
  ario_sqe e = msg_sqe(ARIO_OP_RECVMSG, sp[1], &rm);
  e.op_flags = MSG_CMSG_CLOEXEC;
  CHECK_EQ(run1(e), 1);
  memcpy(&fd, CMSG_DATA(&in.h), sizeof fd);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  close(fd);
  close(p[0]);
  close(p[1]);
  ario_close(l, sp[0]);
  ario_close(l, sp[1]);
}

static void pktinfo(int v6) {
  int fam = v6 ? AF_INET6 : AF_INET;
  const char *ip = v6 ? "::1" : "127.0.0.1";
  int rx = ario_socket(fam, SOCK_DGRAM, 0), tx = ario_socket(fam, SOCK_DGRAM, 0);
  CHECK(rx >= 0 && tx >= 0);
  unsigned char sa[128];
  int sl = ario_sockaddr_ip(sa, sizeof sa, ip, 0, 0);
  CHECK(sl > 0);
  if (ario_bind(rx, sa, (uint32_t)sl) != 0) { /* no ::1 here */
    t_printf("msg: no %s, PKTINFO not checked\n", ip);
    close(rx);
    close(tx);
    return;
  }
  uint32_t len = sizeof sa;
  CHECK_EQ(ario_getsockname(rx, sa, &len), 0);
  int on = 1;
  CHECK_EQ(ario_setsockopt(rx, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                           v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &on, sizeof on), 0);
  CHECK_EQ(ario_setsockopt(rx, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                           v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL, &on, sizeof on), 0);
  /* SENDMSG with a destination name and two iovecs */
  char h[2] = "he", t[3] = "llo";
  ario_iovec v[2] = {{t_addr(h), 2}, {t_addr(t), 3}};
  ario_msghdr m = {.name = t_addr(sa), .namelen = len, .iov = t_addr(v), .iovlen = 2};
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, tx, &m)), 5);
  unsigned char from[128], ctl[256];
  char buf[16];
  ario_iovec rv = {t_addr(buf), sizeof buf};
  ario_msghdr rm = {.name = t_addr(from), .namelen = sizeof from, .iov = t_addr(&rv),
                    .iovlen = 1, .control = t_addr(ctl), .controllen = sizeof ctl};
  CHECK_EQ(run1(msg_sqe(ARIO_OP_RECVMSG, rx, &rm)), 5);
  CHECK(!memcmp(buf, "hello", 5));
  CHECK_EQ(rm.namelen, v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  char text[64];
  uint32_t port;
  CHECK_EQ(ario_sockaddr_decode(from, rm.namelen, text, sizeof text, &port), fam);
  CHECK(!strcmp(text, ip));
  struct msghdr mh = {.msg_control = ctl, .msg_controllen = rm.controllen};
  int seen_info = 0, seen_ttl = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      CHECK_EQ(ntohl(pi.ipi_addr.s_addr), 0x7f000001);
      CHECK(pi.ipi_ifindex > 0);
      seen_info = 1;
    } else if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      CHECK(IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr));
      CHECK(pi.ipi6_ifindex > 0);
      seen_info = 1;
    } else if (c->cmsg_type == (v6 ? IPV6_HOPLIMIT : IP_TTL)) {
      int ttl;
      memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
      CHECK(ttl > 0 && ttl <= 255);
      seen_ttl = 1;
    }
  }
  CHECK(seen_info && seen_ttl);

  /* MSG_TRUNC: a datagram larger than the buffers */
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, tx, &m)), 5);
  rv.len = 3;
  rm.controllen = sizeof ctl;
  CHECK_EQ(run1(msg_sqe(ARIO_OP_RECVMSG, rx, &rm)), 3);
  CHECK(rm.flags & MSG_TRUNC);
  /* MSG_CTRUNC: control room for less than both messages */
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, tx, &m)), 5);
  rv.len = sizeof buf;
  rm.controllen = CMSG_SPACE(sizeof(int));
  rm.flags = 0;
  CHECK_EQ(run1(msg_sqe(ARIO_OP_RECVMSG, rx, &rm)), 5);
  CHECK(rm.flags & MSG_CTRUNC);
  ario_close(l, rx);
  ario_close(l, tx);
}

static void bad_fields(void) {
  int32_t sp[2];
  CHECK_EQ(ario_socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  char b[4];
  ario_iovec v[ARIO_IOV_MAX + 1];
  for (unsigned k = 0; k <= ARIO_IOV_MAX; k++) v[k] = (ario_iovec){t_addr(b), 1};
  ario_msghdr m = {.iov = t_addr(v), .iovlen = 1};
  ario_sqe e;
  /* too many iovecs: -EINVAL */
  CHECK_EQ(run1(vec_sqe(ARIO_OP_WRITEV, sp[0], v, ARIO_IOV_MAX + 1)), -EINVAL);
  CHECK_EQ(run1(vec_sqe(ARIO_OP_WRITEV, sp[0], v, ARIO_IOV_MAX)), ARIO_IOV_MAX);
  char sink[ARIO_IOV_MAX];
  CHECK_EQ(read(sp[1], sink, sizeof sink), ARIO_IOV_MAX);
  m.iovlen = ARIO_IOV_MAX + 1;
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, sp[0], &m)), -EINVAL);
  m.iovlen = 1;
  /* missing pointers: -EFAULT */
  CHECK_EQ(run1(vec_sqe(ARIO_OP_READV, sp[0], 0, 1)), -EFAULT);
  ario_iovec nul = {0, 4};
  CHECK_EQ(run1(vec_sqe(ARIO_OP_WRITEV, sp[0], &nul, 1)), -EFAULT);
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, sp[0], 0)), -EFAULT);
  m.iov = 0;
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, sp[0], &m)), -EFAULT);
  m.iov = t_addr(v);
  m.controllen = 16;
  CHECK_EQ(run1(msg_sqe(ARIO_OP_SENDMSG, sp[0], &m)), -EFAULT);
  m.controllen = 0;
  /* a length res cannot say */
  ario_iovec big[2] = {{t_addr(b), 0x40000000u}, {t_addr(b), 0x40000000u}};
  CHECK_EQ(run1(vec_sqe(ARIO_OP_WRITEV, sp[0], big, 2)), -EINVAL);
  /* MSG_WAITALL, unknown flags, MSG_CMSG_CLOEXEC on a send */
  e = msg_sqe(ARIO_OP_RECVMSG, sp[0], &m);
  e.op_flags = MSG_WAITALL;
  CHECK_EQ(run1(e), -EINVAL);
  e.op_flags = MSG_ERRQUEUE;
  CHECK_EQ(run1(e), -EINVAL);
  e = msg_sqe(ARIO_OP_SENDMSG, sp[0], &m);
  e.op_flags = MSG_CMSG_CLOEXEC;
  CHECK_EQ(run1(e), -EINVAL);
  /* fields the ops do not read */
  e = msg_sqe(ARIO_OP_SENDMSG, sp[0], &m);
  e.len = 1;
  CHECK_EQ(run1(e), -EINVAL);
  e = vec_sqe(ARIO_OP_READV, sp[0], v, 1);
  e.addr2 = 8;
  CHECK_EQ(run1(e), -EINVAL);
  e = vec_sqe(ARIO_OP_READV, sp[0], v, 1);
  e.off = (uint64_t)INT64_MAX + 1;
  CHECK_EQ(run1(e), -EINVAL);
  CHECK_EQ(run1(vec_sqe(ARIO_OP_READV, -1, v, 1)), -EBADF);
  /* past the last op */
  CHECK_EQ(run1(t_sqe(ARIO_OP_COUNT_, -1, 22)), -EINVAL);
  /* a pending RECVMSG is cancelled by CLOSE */
  ario_sqe s[2];
  ario_cqe c[2];
  ario_msghdr rm = {.iov = t_addr(v), .iovlen = 1};
  s[0] = msg_sqe(ARIO_OP_RECVMSG, sp[1], &rm);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 2, 1000000), 0);
  s[1] = t_sqe(ARIO_OP_CLOSE, sp[1], 77);
  CHECK_EQ(ario_submit(l, s + 1, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, ARIO_OP_RECVMSG), -ECANCELED);
  CHECK_EQ(t_res_of(c, 2, 77), 0);
  ario_close(l, sp[0]);
}

int main(void) {
  l = t_loop(T_ENTRIES);
  int64_t v;
  CHECK_EQ(ario_constant("ARIO_IOV_MAX", &v), 0);
  CHECK_EQ(v, ARIO_IOV_MAX);
  CHECK_EQ(ario_constant("SCM_RIGHTS", &v), 0);
  CHECK_EQ(v, SCM_RIGHTS);
  CHECK_EQ(ario_constant("ARIO_CMSG_HDR", &v), 0);
  CHECK_EQ(v, CMSG_LEN(0));
  CHECK_EQ(ario_constant("ARIO_CMSG_ALIGN", &v), 0);
  CHECK_EQ(v, sizeof(size_t));
  scatter_gather();
  fd_passing();
  pktinfo(0);
  pktinfo(1);
  bad_fields();
  ario_deinit(l);
  return T_EXIT_PASS;
}
#endif
