/*
 * test.h: shared by the C tests. Each test is a small program that exits
 * with T_EXIT_PASS, T_EXIT_FAIL or T_EXIT_SKIP (liburing's test/helpers.h
 * convention; scripts/test-c.sh reads 77 as skip).
 *
 * One test file serves two ports, picked at compile time:
 *   host  (default) real pipes and TCP sockets, a heap-sized loop of up to
 *         T_ENTRIES; the backend comes from ARIO_BACKEND in the environment,
 *         so one binary runs on each (scripts/test-c.sh).
 *   bare  (ARIO_BARE) the MCU harness: the in-memory pipes of
 *         tests/mcu/bare/pipe_dev.c, its simulated clock and a static loop of
 *         16 entries; errno values are Linux's (platform.h), so the expected
 *         results are the host's. A file that runs there too names what the
 *         MCU runner (tests/mcu/run.ts) compiles beside it:
 *           mcu: src tests/mcu/bare/pipe_dev.c
 *           mcu: cflags -Icsrc -Icsrc/test -Itests/mcu/bare -Wextra -Werror
 * What only one port can check (real sockets, more than 16 entries, the
 * compact tables) sits under #ifdef ARIO_BARE in the test.
 */
#ifndef ARIO_TEST_H
#define ARIO_TEST_H

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

#if defined(ARIO_BARE)
/* ------------------------------------------------------- the bare port -- */
#include <string.h>
#include "mcu_test.h" /* CHECK, CHECK_EQ, mcu_printf, mcu_exit */
#include "ario.h"
#include "platform.h"
#include "pipe_dev.h"

#define t_printf mcu_printf
#define t_exit mcu_exit

#define T_ENTRIES 16 /* all the static loop holds */
ARIO_LOOP_STATIC(t_mem, T_ENTRIES);

/* Like write(2) on a pipe end: count or -errno. */
static inline int t_write(int32_t fd, const void *buf, uint32_t len) {
  return pipe_dev_write(fd, buf, len);
}

/* A byte stream: s[0] receives (RECV) what s[1] sends. A harness pipe: its
 * ends also take RECV/SEND. */
static inline void t_stream_pair(int32_t s[2]) { CHECK_EQ(ario_pipe(s), 0); }

#else
/* ------------------------------------------------------- the host port -- */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ario.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define t_printf(...) fprintf(stderr, __VA_ARGS__)
#define t_exit exit

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);   \
      exit(T_EXIT_FAIL);                                                      \
    }                                                                         \
  } while (0)
#define CHECK_EQ(a, b)                                                        \
  do {                                                                        \
    long long a_ = (long long)(a), b_ = (long long)(b);                       \
    if (a_ != b_) {                                                           \
      fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,   \
              __LINE__, #a, a_, #b, b_);                                      \
      exit(T_EXIT_FAIL);                                                      \
    }                                                                         \
  } while (0)

#define T_ENTRIES 64 /* what the feature tests use; t_mem holds far more */
static _Alignas(16) unsigned char t_mem[1 << 20];

static inline int t_write(int32_t fd, const void *buf, uint32_t len) {
  return (int)write(fd, buf, len);
}

/* A connected TCP pair on 127.0.0.1 (both non-blocking). */
static inline void t_tcp_pair(int fds[2]) {
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

/* A connected AF_UNIX stream pair (both non-blocking). */
static inline void t_unix_pair(int s[2]) {
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
  ario_set_nonblocking(s[0], 1);
  ario_set_nonblocking(s[1], 1);
}

/* A byte stream: s[0] receives what s[1] sends. A TCP pair (accepted end,
 * connecting end). */
static inline void t_stream_pair(int32_t s[2]) {
  int t[2];
  t_tcp_pair(t);
  s[0] = t[1];
  s[1] = t[0];
}

/* A count another thread bumps, and a wait for it to pass a value (the
 * doorbell tests count the bell's rings). */
typedef struct t_counter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned n;
} t_counter;
#define T_COUNTER_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}

static inline void t_counter_bump(t_counter *c) {
  pthread_mutex_lock(&c->mu);
  c->n++;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static inline unsigned t_counter_get(t_counter *c) {
  pthread_mutex_lock(&c->mu);
  unsigned n = c->n;
  pthread_mutex_unlock(&c->mu);
  return n;
}

/* Waits until the count exceeds `seen`, at most 2 s; 1 if it did. */
static inline int t_counter_wait_past(t_counter *c, unsigned seen) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 2;
  pthread_mutex_lock(&c->mu);
  while (c->n <= seen)
    if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0) break;
  int ok = c->n > seen;
  pthread_mutex_unlock(&c->mu);
  return ok;
}
#endif

/* ------------------------------------------------------ both ports -- */

/* Prints the message and ends the test as failed. */
#define t_fail(...)            \
  do {                         \
    t_printf(__VA_ARGS__);     \
    t_exit(T_EXIT_FAIL);       \
  } while (0)

/* A loop of `entries` in t_mem. */
static inline ario_loop *t_loop(uint32_t entries) {
  ario_params p = {.entries = entries};
#if !defined(ARIO_BARE)
  signal(SIGPIPE, SIG_IGN);
#endif
  size_t need = ario_mem_size(&p);
  CHECK(need > 0 && need <= sizeof t_mem);
  CHECK_EQ(ario_init(t_mem, sizeof t_mem, &p), 0);
  return (ario_loop *)(void *)t_mem;
}

static inline ario_sqe t_sqe(uint8_t op, int32_t fd, uint64_t ud) {
  ario_sqe e;
  memset(&e, 0, sizeof e);
  e.op = op;
  e.fd = fd;
  e.user_data = ud;
  return e;
}

/* A buffer's address as an sqe's addr. */
static inline uint64_t t_addr(const void *p) { return (uint64_t)(uintptr_t)p; }

/* Reaps until `want` completions arrived (or 5 s of loop time passed);
 * returns the count. */
static inline int t_reap_n(ario_loop *l, ario_cqe *out, int want) {
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
static inline int32_t t_res_of(const ario_cqe *c, int n, uint64_t ud) {
  for (int i = 0; i < n; i++)
    if (c[i].user_data == ud) return c[i].res;
  t_fail("no completion for user_data %llu\n", (unsigned long long)ud);
}
#endif
