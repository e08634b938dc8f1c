/*
 * test.h: shared by the C tests. Each test is a small program: exit 0 pass,
 * 1 fail, 77 skip (liburing's convention). The backend comes from the
 * ARIO_BACKEND environment variable, so one binary runs on each.
 */
#ifndef ARIO_TEST_H
#define ARIO_TEST_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ario.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);   \
      exit(1);                                                                \
    }                                                                         \
  } while (0)
#define CHECK_EQ(a, b)                                                        \
  do {                                                                        \
    long long a_ = (long long)(a), b_ = (long long)(b);                       \
    if (a_ != b_) {                                                           \
      fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,   \
              __LINE__, #a, a_, #b, b_);                                      \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

static _Alignas(16) unsigned char test_mem[1 << 20];

static inline ario_loop *test_loop(uint32_t entries) {
  ario_params p = {.entries = entries};
  signal(SIGPIPE, SIG_IGN);
  size_t need = ario_mem_size(&p);
  CHECK(need > 0 && need <= sizeof test_mem);
  CHECK_EQ(ario_init(test_mem, sizeof test_mem, &p), 0);
  return (ario_loop *)test_mem;
}

static inline ario_sqe sqe(uint8_t op, int fd, uint64_t ud) {
  ario_sqe e;
  memset(&e, 0, sizeof e);
  e.op = op;
  e.fd = fd;
  e.user_data = ud;
  return e;
}

/* Reaps until `want` completions arrived (or 5 s passed); returns the count. */
static inline int reap_n(ario_loop *l, ario_cqe *out, int want) {
  int got = 0;
  int64_t until = ario_now() + 5000000000LL;
  while (got < want && ario_now() < until) {
    int n = ario_reap(l, out + got, (uint32_t)(want - got), 100000000);
    CHECK(n >= 0);
    got += n;
  }
  return got;
}

/* Result of the completion with user_data ud among n. */
static inline int32_t res_of(const ario_cqe *c, int n, uint64_t ud) {
  for (int i = 0; i < n; i++)
    if (c[i].user_data == ud) return c[i].res;
  fprintf(stderr, "no completion for user_data %llu\n", (unsigned long long)ud);
  exit(1);
}

/* A connected TCP pair on 127.0.0.1 (both non-blocking). */
static inline void tcp_pair(int fds[2]) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t al = sizeof a;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(ls >= 0 && bind(ls, (void *)&a, sizeof a) == 0 && listen(ls, 1) == 0);
  CHECK(getsockname(ls, (void *)&a, &al) == 0);
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(connect(fds[0], (void *)&a, sizeof a) == 0);
  fds[1] = accept(ls, 0, 0);
  CHECK(fds[1] >= 0);
  close(ls);
  ario_set_nonblocking(fds[0], 1);
  ario_set_nonblocking(fds[1], 1);
}
#endif
