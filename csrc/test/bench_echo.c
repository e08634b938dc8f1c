/* bench_echo: C clients and server connections on loopback, one ario loop
 * for both sides, each client doing N ping-pongs of S bytes (the workload
 * of shared/anchors/echo_c_epoll.c, through ario's submit/reap API).
 * Server: RECV -> SEND(n) linked to the next RECV. Client: SEND(S) linked
 * to RECV(S, MSG_WAITALL). Every batch of new entries goes out in one
 * ario_submit(). Usage: bench_echo [conns [pings [size]]]; with no
 * arguments a short run, so the C test runner uses it as a smoke test. */
#include "test.h"
#include <netinet/tcp.h>
#include <time.h>

#define ROLE_CLIENT 0u
#define ROLE_SERVER 1u
#define UD(conn, role, op) (((uint64_t)(conn) << 8) | ((role) << 4) | (op))

int main(int argc, char **argv) {
  int C = argc > 1 ? atoi(argv[1]) : 10, N = argc > 2 ? atoi(argv[2]) : 200,
      S = argc > 3 ? atoi(argv[3]) : 16;
  signal(SIGPIPE, SIG_IGN);
  ario_params p = {.entries = (uint32_t)(C * 4 + 16)};
  size_t need = ario_mem_size(&p);
  void *mem = aligned_alloc(16, (need + 15) & ~(size_t)15);
  CHECK(mem && ario_init(mem, need, &p) == 0);
  ario_loop *l = mem;

  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t al = sizeof a;
  CHECK(bind(ls, (void *)&a, sizeof a) == 0 && listen(ls, 1024) == 0);
  CHECK(getsockname(ls, (void *)&a, &al) == 0);
  int *cl = calloc((size_t)C, sizeof(int)), *sv = calloc((size_t)C, sizeof(int)),
      *cnt = calloc((size_t)C, sizeof(int));
  char *cbuf = calloc((size_t)C, (size_t)S), *sbuf = calloc((size_t)C, 65536), msg[65536] = {0};
  ario_sqe *q = calloc((size_t)C * 4 + 16, sizeof(ario_sqe));
  ario_cqe *c = calloc((size_t)C * 4 + 16, sizeof(ario_cqe));
  for (int i = 0; i < C; i++) {
    cl[i] = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(cl[i], (void *)&a, sizeof a) == 0);
    sv[i] = accept(ls, 0, 0);
    CHECK(sv[i] >= 0);
    setsockopt(cl[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(sv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ario_set_nonblocking(cl[i], 1);
    ario_set_nonblocking(sv[i], 1);
  }
  int nq = 0, done = 0;
#define PING(i)                                                                          \
  do {                                                                                   \
    q[nq] = t_sqe(ARIO_OP_SEND, cl[i], UD(i, ROLE_CLIENT, 1));                             \
    q[nq].addr = (uintptr_t)msg; q[nq].len = (uint32_t)S; q[nq++].flags = ARIO_SQE_LINK; \
    q[nq] = t_sqe(ARIO_OP_RECV, cl[i], UD(i, ROLE_CLIENT, 2));                             \
    q[nq].addr = (uintptr_t)(cbuf + (size_t)i * S); q[nq].len = (uint32_t)S;             \
    q[nq++].op_flags = MSG_WAITALL;                                                      \
  } while (0)
#define SRECV(i)                                                                         \
  do {                                                                                   \
    q[nq] = t_sqe(ARIO_OP_RECV, sv[i], UD(i, ROLE_SERVER, 2));                             \
    q[nq].addr = (uintptr_t)(sbuf + (size_t)i * 65536); q[nq++].len = 65536;             \
  } while (0)
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < C; i++) {
    SRECV(i);
    PING(i);
  }
  while (done < C) {
    if (nq) {
      CHECK_EQ(ario_submit(l, q, (uint32_t)nq), nq);
      nq = 0;
    }
    int n = ario_reap(l, c, (uint32_t)(C * 4 + 16), -1);
    CHECK(n >= 0);
    for (int k = 0; k < n; k++) {
      int i = (int)(c[k].user_data >> 8), role = (int)(c[k].user_data >> 4) & 15,
          op = (int)c[k].user_data & 15;
      if (role == ROLE_SERVER && op == 2) { /* echo what came, then listen again */
        if (c[k].res <= 0) continue;
        q[nq] = t_sqe(ARIO_OP_SEND, sv[i], UD(i, ROLE_SERVER, 1));
        q[nq].addr = (uintptr_t)(sbuf + (size_t)i * 65536); q[nq].len = (uint32_t)c[k].res;
        q[nq++].flags = ARIO_SQE_LINK;
        SRECV(i);
      } else if (role == ROLE_CLIENT && op == 2) {
        CHECK_EQ(c[k].res, S);
        if (++cnt[i] == N) done++;
        else PING(i);
      } else {
        CHECK(c[k].res >= 0);
      }
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  static const char *names[] = {"default", "io_uring", "epoll", "poll", "select", "kqueue", "windows"};
  printf("ario-%s conns=%d msgs/s=%.0f rtt_us=%.2f\n", names[ario_backend(l)], C, C * (double)N / dt,
         dt * 1e6 / N);
  for (int i = 0; i < C; i++) {
    close(cl[i]);
    close(sv[i]);
  }
  close(ls);
  ario_deinit(l);
  free(mem); free(cl); free(sv); free(cnt); free(cbuf); free(sbuf); free(q); free(c);
  return T_EXIT_PASS;
}
