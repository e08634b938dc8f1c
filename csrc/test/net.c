/* TCP accept/connect, UDP sendto/recvfrom, POLL, SHUTDOWN, errors. */
#include "test.h"

int main(void) {
  ario_loop *l = t_loop(64);
  ario_cqe c[16];
  ario_sqe s[8];
  unsigned char sa[128], peer[128];
  uint32_t peer_len = sizeof peer;
  char buf[64];
  int64_t v;

  CHECK_EQ(ario_constant("AF_INET", &v), 0); CHECK_EQ(v, AF_INET);
  CHECK_EQ(ario_constant("ECONNREFUSED", &v), 0); CHECK_EQ(v, ECONNREFUSED);
  CHECK_EQ(ario_constant("NOPE", &v), -ENOENT);
  CHECK(strcmp(ario_errno_name(ECONNREFUSED), "ECONNREFUSED") == 0);
  CHECK(strcmp(ario_errno_name(99999), "EUNKNOWN") == 0);

  /* listener on an ephemeral port */
  int ls = ario_socket(AF_INET, SOCK_STREAM, 0);
  CHECK(ls >= 0);
  int sl = ario_sockaddr_ip(sa, sizeof sa, "127.0.0.1", 0, 0);
  CHECK_EQ(sl, sizeof(struct sockaddr_in));
  CHECK_EQ(ario_bind(ls, sa, (uint32_t)sl), 0);
  CHECK_EQ(ario_listen(ls, 16), 0);
  uint32_t len = sizeof sa;
  CHECK_EQ(ario_getsockname(ls, sa, &len), 0);
  uint32_t port = 0;
  char text[64];
  CHECK_EQ(ario_sockaddr_decode(sa, len, text, sizeof text, &port), AF_INET);
  CHECK(strcmp(text, "127.0.0.1") == 0 && port > 0);

  /* accept + connect + send + recv in one batch */
  int cl = ario_socket(AF_INET, SOCK_STREAM, 0);
  s[0] = t_sqe(ARIO_OP_ACCEPT, ls, 1); s[0].addr = (uintptr_t)peer; s[0].addr2 = (uintptr_t)&peer_len;
  s[1] = t_sqe(ARIO_OP_CONNECT, cl, 2); s[1].addr = (uintptr_t)sa; s[1].len = len; s[1].flags = ARIO_SQE_LINK;
  s[2] = t_sqe(ARIO_OP_SEND, cl, 3); s[2].addr = (uintptr_t)"hello"; s[2].len = 5;
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  int srv = t_res_of(c, 3, 1);
  CHECK(srv >= 0);
  CHECK_EQ(t_res_of(c, 3, 2), 0);
  CHECK_EQ(t_res_of(c, 3, 3), 5);
  CHECK_EQ(ario_sockaddr_decode(peer, peer_len, text, sizeof text, &port), AF_INET);
  CHECK(strcmp(text, "127.0.0.1") == 0);
  s[0] = t_sqe(ARIO_OP_RECV, srv, 4); s[0].addr = (uintptr_t)buf; s[0].len = 5; s[0].op_flags = MSG_WAITALL;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, 5);
  CHECK(memcmp(buf, "hello", 5) == 0);

  /* POLL for writability, then SHUTDOWN write: the peer reads EOF */
  s[0] = t_sqe(ARIO_OP_POLL, srv, 5); s[0].op_flags = ARIO_POLL_OUT;
  s[1] = t_sqe(ARIO_OP_SHUTDOWN, srv, 6); s[1].len = 1;
  s[2] = t_sqe(ARIO_OP_RECV, cl, 7); s[2].addr = (uintptr_t)buf; s[2].len = 8;
  CHECK_EQ(ario_submit(l, s, 3), 3);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK(t_res_of(c, 3, 5) & ARIO_POLL_OUT);
  CHECK_EQ(t_res_of(c, 3, 6), 0);
  CHECK_EQ(t_res_of(c, 3, 7), 0);

  /* connect to a closed port: ECONNREFUSED */
  int dead = ario_socket(AF_INET, SOCK_STREAM, 0);
  CHECK_EQ(ario_close(l, ls), 0);
  s[0] = t_sqe(ARIO_OP_CONNECT, dead, 8); s[0].addr = (uintptr_t)sa; s[0].len = len;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, -ECONNREFUSED);

  /* UDP: sendto / recvfrom with the source address */
  int u1 = ario_socket(AF_INET, SOCK_DGRAM, 0), u2 = ario_socket(AF_INET, SOCK_DGRAM, 0);
  unsigned char a1[128], from[128];
  uint32_t from_len = sizeof from;
  int l1 = ario_sockaddr_ip(a1, sizeof a1, "127.0.0.1", 0, 0);
  CHECK_EQ(ario_bind(u1, a1, (uint32_t)l1), 0);
  uint32_t a1len = sizeof a1;
  CHECK_EQ(ario_getsockname(u1, a1, &a1len), 0);
  s[0] = t_sqe(ARIO_OP_RECVFROM, u1, 9); s[0].addr = (uintptr_t)buf; s[0].len = sizeof buf; s[0].addr2 = (uintptr_t)from; s[0].off = (uintptr_t)&from_len;
  s[1] = t_sqe(ARIO_OP_SENDTO, u2, 10); s[1].addr = (uintptr_t)"ping"; s[1].len = 4; s[1].addr2 = (uintptr_t)a1; s[1].off = a1len;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 9), 4);
  CHECK_EQ(t_res_of(c, 2, 10), 4);
  CHECK(memcmp(buf, "ping", 4) == 0);
  CHECK_EQ(ario_sockaddr_decode(from, from_len, text, sizeof text, &port), AF_INET);
  CHECK(port > 0);

  /* unix datagram pair, abstract address round trip */
#if defined(_WIN32)
  printf("SKIP: no AF_UNIX socketpair on Windows (TCP and UDP above passed)\n");
  return 77;
#endif
  int32_t up[2];
  CHECK_EQ(ario_socketpair(AF_UNIX, SOCK_DGRAM, 0, up), 0);
  s[0] = t_sqe(ARIO_OP_SEND, up[0], 11); s[0].addr = (uintptr_t)"dgram"; s[0].len = 5;
  s[1] = t_sqe(ARIO_OP_RECV, up[1], 12); s[1].addr = (uintptr_t)buf; s[1].len = sizeof buf;
  CHECK_EQ(ario_submit(l, s, 2), 2);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 12), 5);
  int ul = ario_sockaddr_unix(sa, sizeof sa, (const uint8_t *)"\0ario-test", 10);
  CHECK(ul > 0);
  CHECK_EQ(ario_sockaddr_decode(sa, (uint32_t)ul, text, sizeof text, &port), AF_UNIX);
  CHECK_EQ(port, 10);
  CHECK_EQ(ario_sockaddr_ip(sa, sizeof sa, "not an ip", 1, 0), -EINVAL);

  /* regular files cannot be polled: a clear error, not a hang */
  FILE *f = tmpfile();
  s[0] = t_sqe(ARIO_OP_READ, fileno(f), 13); s[0].addr = (uintptr_t)buf; s[0].len = 4; s[0].off = ARIO_OFF_CURRENT;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK(c[0].res == -EPERM || c[0].res == 0); /* epoll refuses; poll says ready, EOF */
  ario_deinit(l);
  return T_EXIT_PASS;
}
