/* Load generator for an echo server in another process: C connections to
   127.0.0.1:PORT, each doing N ping-pongs of S bytes, all on one epoll loop.
   usage: echo_client PORT [C=100] [N=2000] [S=16]
   prints: client conns=C msgs/s=X rtt_us=Y */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: echo_client PORT [CONNS] [N] [SIZE]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  int C = argc > 2 ? atoi(argv[2]) : 100, N = argc > 3 ? atoi(argv[3]) : 2000;
  int S = argc > 4 ? atoi(argv[4]) : 16;
  if (C < 1 || N < 1 || S < 1 || S > 65536) die("arguments");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(0x7f000001)};
  int ep = epoll_create1(0), one = 1;
  int *fd = calloc(C, sizeof *fd), *left = calloc(C, sizeof *left), *got = calloc(C, sizeof *got);
  static char msg[65536], buf[65536];
  for (int i = 0; i < C; i++) {
    fd[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (fd[i] < 0 || connect(fd[i], (void *)&a, sizeof a) < 0) die("connect");
    setsockopt(fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd[i], F_SETFL, O_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &e) < 0) die("epoll_ctl");
    left[i] = N;
  }
  double t0 = now();
  for (int i = 0; i < C; i++)
    if (write(fd[i], msg, S) != S) die("write");
  int done = 0;
  struct epoll_event ev[256];
  while (done < C) {
    int n = epoll_wait(ep, ev, 256, 10000);
    if (n == 0) {
      fprintf(stderr, "echo_client: no reply for 10 s\n");
      return 1;
    }
    for (int k = 0; k < n; k++) {
      int i = (int)ev[k].data.u32;
      ssize_t r = read(fd[i], buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) die("read (the server closed)");
      if (r < 0) continue;
      got[i] += (int)r;
      while (got[i] >= S && left[i] > 0) {
        got[i] -= S;
        if (--left[i] == 0) {
          done++;
          break;
        }
        if (write(fd[i], msg, S) != S) die("write");
      }
    }
  }
  double dt = now() - t0;
  printf("client conns=%d msgs/s=%.0f rtt_us=%.2f\n", C, C * (double)N / dt, dt * 1e6 / N);
  for (int i = 0; i < C; i++) close(fd[i]);
  return 0;
}
