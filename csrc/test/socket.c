/*
 * socket.c: the SOCKET op on every backend. Each (domain, type, protocol)
 * of the table gets what socket(2) itself answers here (the same errno, or
 * an fd of that kind, non-blocking and close-on-exec); fields SOCKET does
 * not read fail with -EINVAL; chains break on a failed SOCKET; a full
 * table holds it back; many at once all arrive.
 */
#include "test.h"
#if defined(__linux__)
#include <fcntl.h>
#include <netinet/in.h>

typedef struct kind {
  int domain, type, protocol;
} kind;

#define FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)

static const kind table[] = {
    {AF_INET, SOCK_STREAM, 0},
    {AF_INET, SOCK_DGRAM, 0},
    {AF_INET6, SOCK_STREAM, IPPROTO_TCP},
    {AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
    {AF_UNIX, SOCK_STREAM, 0},
    {AF_UNIX, SOCK_DGRAM, 0},
    {AF_UNIX, SOCK_SEQPACKET, 0},
    {AF_INET, SOCK_RAW, IPPROTO_ICMP},    /* root: an fd; otherwise -EPERM */
    {AF_INET6, SOCK_RAW, IPPROTO_ICMPV6}, /* likewise */
    {AF_INET, SOCK_DGRAM, IPPROTO_ICMP},  /* ping socket: per ping_group_range */
    {AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
    {AF_PACKET, SOCK_DGRAM, 0},           /* root: an fd (protocol 0: receives nothing) */
    {AF_PACKET, SOCK_RAW, 0},
    {AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0}, /* the flags may be given: they are implied */
    {AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0},
    {AF_INET, SOCK_DGRAM | FLAGS, 0},
    {AF_INET, SOCK_DGRAM | 0x100000, 0},  /* an unknown flag bit: -EINVAL */
    {AF_INET, SOCK_STREAM, IPPROTO_UDP},  /* -EPROTONOSUPPORT */
    {AF_INET, SOCK_DGRAM, 9999},          /* -EINVAL (protocol >= IPPROTO_MAX) */
    {AF_INET, 99, 0},                     /* -EINVAL (type >= SOCK_MAX) */
    {AF_INET, -1, 0},
    {AF_UNSPEC, SOCK_DGRAM, 0},           /* -EAFNOSUPPORT */
    {9999, SOCK_DGRAM, 0},
    {-1, SOCK_DGRAM, 0},
    {AF_UNIX, SOCK_STREAM, 5},            /* -EPROTONOSUPPORT */
};
#define N (int)(sizeof table / sizeof table[0])

static ario_sqe e_socket(int domain, int type, int protocol, uint64_t ud) {
  ario_sqe e = t_sqe(ARIO_OP_SOCKET, domain, ud);
  e.off = (uint32_t)type;
  e.len = (uint32_t)protocol;
  return e;
}

static int opt(int fd, int name) {
  int v = -1;
  socklen_t sl = sizeof v;
  CHECK_EQ(getsockopt(fd, SOL_SOCKET, name, &v, &sl), 0);
  return v;
}

/* What socket(2) says for k: an fd (closed again, so 0) or -errno. */
static int expected(const kind *k) {
  /* unknown type flag bits: refused before the op runs (validate.c), as the
   * kernel's io_uring does; qemu-user's socket(2) would take them */
  if ((uint32_t)k->type & ~0xfu & ~(uint32_t)FLAGS) return -EINVAL;
  int fd = socket(k->domain, k->type, k->protocol);
  if (fd < 0) return -errno;
  close(fd);
  return 0;
}

static void check_fd(const kind *k, int fd) {
  CHECK(fd >= 0);
  CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  CHECK_EQ(opt(fd, SO_DOMAIN), k->domain);
  CHECK_EQ(opt(fd, SO_TYPE), k->type & ~FLAGS);
  if (k->protocol) CHECK_EQ(opt(fd, SO_PROTOCOL), k->protocol);
  close(fd);
}

static void whole_table(void) {
  ario_loop *l = t_loop(64);
  ario_sqe s[N];
  ario_cqe c[N];
  for (int i = 0; i < N; i++) s[i] = e_socket(table[i].domain, table[i].type, table[i].protocol, 100 + i);
  CHECK_EQ(ario_submit(l, s, N), N);
  CHECK_EQ(t_reap_n(l, c, N), N);
  int fds = 0;
  for (int i = 0; i < N; i++) {
    int32_t res = t_res_of(c, N, 100 + i), want = expected(&table[i]);
    if (want < 0 && res != want)
      t_fail("socket(%d, %#x, %d): %d, socket(2) says %d\n", table[i].domain, table[i].type,
             table[i].protocol, res, want);
    if (want == 0) {
      if (res < 0)
        t_fail("socket(%d, %#x, %d): %d, socket(2) gives an fd\n", table[i].domain, table[i].type,
               table[i].protocol, res);
      check_fd(&table[i], res);
      fds++;
    }
  }
  CHECK(fds >= 8); /* the IP and Unix kinds at least */
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
}

/* Fields SOCKET does not read, and a type beyond 32 bits: -EINVAL. */
static void bad_fields(void) {
  ario_loop *l = t_loop(8);
  ario_sqe s[5];
  ario_cqe c[5];
  char buf[8];
  for (int i = 0; i < 5; i++) s[i] = e_socket(AF_INET, SOCK_DGRAM, 0, 10 + i);
  s[0].addr = t_addr(buf);
  s[1].addr2 = t_addr(buf);
  s[2].op_flags = 1;
  s[3].off = (1ull << 32) | SOCK_DGRAM; /* the kernel would see SOCK_DGRAM */
  s[4].reserved = 1;
  CHECK_EQ(ario_submit(l, s, 5), 5);
  CHECK_EQ(t_reap_n(l, c, 5), 5);
  for (int i = 0; i < 5; i++) CHECK_EQ(t_res_of(c, 5, 10 + i), -EINVAL);
  ario_deinit(l);
}

/* A SOCKET in a chain: success lets a soft chain go on, a failure of
 * socket(2) cancels it, a hard link runs the next op anyway; a type with
 * unknown flag bits fails before it runs (as io_uring's prep), which
 * cancels even a hard-linked chain. */
static void chains(void) {
  ario_loop *l = t_loop(8);
  ario_sqe s[8];
  ario_cqe c[8];
  s[0] = e_socket(AF_INET, SOCK_DGRAM, 0, 10);
  s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_NOP, -1, 11);
  s[2] = e_socket(9999, SOCK_DGRAM, 0, 20);
  s[2].flags = ARIO_SQE_LINK;
  s[3] = t_sqe(ARIO_OP_NOP, -1, 21);
  s[4] = e_socket(9999, SOCK_DGRAM, 0, 30);
  s[4].flags = ARIO_SQE_HARDLINK;
  s[5] = t_sqe(ARIO_OP_NOP, -1, 31);
  s[6] = e_socket(AF_INET, SOCK_DGRAM | 0x100000, 0, 40);
  s[6].flags = ARIO_SQE_HARDLINK;
  s[7] = t_sqe(ARIO_OP_NOP, -1, 41);
  CHECK_EQ(ario_submit(l, s, 8), 8);
  CHECK_EQ(t_reap_n(l, c, 8), 8);
  check_fd(&table[1], t_res_of(c, 8, 10));
  CHECK_EQ(t_res_of(c, 8, 11), 0);
  CHECK_EQ(t_res_of(c, 8, 20), -EAFNOSUPPORT);
  CHECK_EQ(t_res_of(c, 8, 21), -ECANCELED);
  CHECK_EQ(t_res_of(c, 8, 30), -EAFNOSUPPORT);
  CHECK_EQ(t_res_of(c, 8, 31), 0);
  CHECK_EQ(t_res_of(c, 8, 40), -EINVAL);
  CHECK_EQ(t_res_of(c, 8, 41), -ECANCELED);
  ario_deinit(l);
}

/* A table full of waiting ops holds a SOCKET back; once one slot frees
 * it goes. A CANCEL_FD whose fd equals a SOCKET's domain matches nothing
 * of it (SOCKET never waits). */
static void full_table(void) {
  ario_loop *l = t_loop(2);
  int p[2];
  CHECK_EQ(ario_pipe(p), 0);
  ario_sqe s[3];
  ario_cqe c[4];
  s[0] = t_sqe(ARIO_OP_POLL, p[0], 1);
  s[0].op_flags = ARIO_POLL_IN;
  s[1] = s[0];
  s[1].user_data = 2;
  s[2] = e_socket(AF_INET, SOCK_STREAM, 0, 3);
  CHECK_EQ(ario_submit(l, s, 3), 2);
  CHECK_EQ(ario_submit(l, &s[2], 1), 0);
  ario_sqe k = t_sqe(ARIO_OP_CANCEL, -1, 4);
  k.addr = 1;
  CHECK_EQ(ario_submit(l, &k, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 4), 0);
  CHECK_EQ(t_res_of(c, 2, 1), -ECANCELED);
  CHECK_EQ(ario_submit(l, &s[2], 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  check_fd(&table[0], t_res_of(c, 1, 3));
  ario_sqe byfd = t_sqe(ARIO_OP_CANCEL, AF_INET, 5);
  byfd.op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ALL;
  CHECK_EQ(ario_submit(l, &byfd, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(t_res_of(c, 1, 5), 0);
  ario_close(l, p[0]);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(t_res_of(c, 1, 2), -ECANCELED);
  close(p[1]);
  ario_deinit(l);
}

/* More sockets than the table holds at once, batch after batch: every fd
 * is distinct and valid, none leaks. */
static void many(void) {
  ario_loop *l = t_loop(T_ENTRIES);
  ario_sqe s[T_ENTRIES];
  ario_cqe c[T_ENTRIES];
  int before = open("/dev/null", O_RDONLY);
  close(before);
  for (int round = 0; round < 8; round++) {
    for (int i = 0; i < T_ENTRIES; i++) s[i] = e_socket(AF_UNIX, SOCK_DGRAM, 0, (uint64_t)i);
    CHECK_EQ(ario_submit(l, s, T_ENTRIES), T_ENTRIES);
    CHECK_EQ(t_reap_n(l, c, T_ENTRIES), T_ENTRIES);
    for (int i = 0; i < T_ENTRIES; i++) {
      CHECK(c[i].res >= 0);
      for (int k = 0; k < i; k++) CHECK(c[k].res != c[i].res);
    }
    for (int i = 0; i < T_ENTRIES; i++) close(c[i].res);
  }
  int after = open("/dev/null", O_RDONLY);
  CHECK_EQ(after, before); /* the lowest free fd is where it was */
  close(after);
  ario_deinit(l);
}

int main(void) {
  ario_loop *l = t_loop(8);
  const char *want = getenv("ARIO_BACKEND");
  if (want && !strcmp(want, "io_uring")) /* SOCKET is probed: no fallback to epoll for it */
    CHECK_EQ(ario_backend(l), ARIO_BACKEND_IO_URING);
  ario_deinit(l);
  whole_table();
  bad_fields();
  chains();
  full_table();
  many();
  printf("socket: ok\n");
  return T_EXIT_PASS;
}
#else
int main(void) {
  printf("SKIP socket (the table is Linux's)\n");
  return 77;
}
#endif
