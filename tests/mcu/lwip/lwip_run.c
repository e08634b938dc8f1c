/*
 * lwip_run.c: ario's lwIP profile (-DARIO_LWIP -DARIO_LWIP_POLL) over a real
 * lwIP stack, in-process: Debian's liblwip 2.1.3 (the unix port: pthread
 * sys_arch, lwip_poll, no lwip_select). tcpip_init() starts lwIP's thread; a
 * netif holding 127.0.0.2, whose link output discards, is the default
 * netif, and LWIP_NETIF_LOOPBACK loops every packet to 127.x back into lwIP.
 * Nothing reaches the host's network. Every socket below is lwIP's.
 *
 * Drives ACCEPT/CONNECT/SEND/RECV, timeouts, cancel, EOF, a refused connect,
 * ario_pipe/ario_socketpair (a loopback TCP pair on lwIP) and ario_wake()
 * through ario's API, and checks lwIP's errno values, non-blocking
 * semantics and socket numbering against what ario assumes. Prints one
 * PASS/FAIL line per check (lwip/<name>); exit status 1 if any failed.
 * Built and run by tests/mcu/lwip/run.sh.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ario.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"

/* Built twice by run.sh: with backend/lwip_poll.c (-DARIO_LWIP_POLL), and
 * with backend/select.c over test_select() below (-DARIO_LWIP_SELECT=
 * test_select -DTEST_SELECT): Debian's lwIP has no lwip_select. */
#if defined(TEST_SELECT)
#define BE "select"
#define BE_ID ARIO_BACKEND_SELECT
#else
#define BE "poll"
#define BE_ID ARIO_BACKEND_POLL
#endif

static int failed;
#define CHECK(name, cond, ...)                                          \
  do {                                                                  \
    if (cond) {                                                         \
      printf("PASS lwip/" BE "/%s", name);                              \
    } else {                                                            \
      printf("FAIL lwip/" BE "/%s", name);                              \
      failed = 1;                                                       \
    }                                                                   \
    printf(" (" __VA_ARGS__);                                           \
    printf(")\n");                                                      \
    fflush(stdout);                                                     \
  } while (0)

/* ---------------------------------------------------------- lwIP up -- */
static struct netif nif, lo;

static err_t discard(struct netif *n, struct pbuf *p, const ip4_addr_t *a) {
  (void)n, (void)p, (void)a;
  return ERR_OK; /* nothing leaves: 127.x is looped before this */
}

static err_t nif_init(struct netif *n) {
  n->name[0] = n == &lo ? 'l' : 'a';
  n->name[1] = n == &lo ? 'o' : 'r';
  n->output = discard;
  n->mtu = 1500;
  return ERR_OK;
}

static void bring_up(void *arg) {
  ip4_addr_t ip, mask, gw;
  IP4_ADDR(&ip, 127, 0, 0, 2);
  IP4_ADDR(&mask, 255, 0, 0, 0);
  IP4_ADDR(&gw, 0, 0, 0, 0);
  /* "lo" holds 127.0.0.1 as lwIP's loopif does on ESP-IDF (LWIP_HAVE_LOOPIF,
   * which Debian's build turns off): the wake-up's UDP socket is bound to
   * 127.0.0.1, and lwIP's udp_sendto_if drops (EHOSTUNREACH) a datagram
   * unless the netif it routes to holds that source (ip4_route picks by
   * netmask, so the other netif is a /32). Without "lo" (LWIP_NO_LO=1),
   * ario_wake() fails: send EHOSTUNREACH. */
  if (!getenv("LWIP_NO_LO")) {
    ip4_addr_t lip;
    IP4_ADDR(&lip, 127, 0, 0, 1);
    netif_add(&lo, &lip, &mask, &gw, NULL, nif_init, tcpip_input);
    netif_set_link_up(&lo);
    netif_set_up(&lo);
  }
  IP4_ADDR(&mask, 255, 255, 255, 255); /* 127.0.0.2 routes here, the rest of 127/8 to lo */
  netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, tcpip_input);
  netif_set_default(&nif);
  netif_set_link_up(&nif);
  netif_set_up(&nif);
  sys_sem_signal((sys_sem_t *)arg);
}

/* ------------------------------------------------ the firmware hooks -- */
/* Built with -DARIO_LWIP_CLOCK_US=test_clock_us (ario_now()'s source, as
 * esp_timer_get_time would be) and -DARIO_LWIP_WAIT_HOOK=test_wait_hook
 * (called before every wait, as firmware would arm an esp_timer). */
static int clock_calls, hook_calls;
static int64_t hook_last_ns = -2;
int64_t test_clock_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  clock_calls++;
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
void test_wait_hook(struct ario_loop *l, int64_t timeout_ns) {
  (void)l;
  hook_calls++;
  hook_last_ns = timeout_ns;
}

#if defined(TEST_SELECT)
/* select() over lwip_poll, for backend/select.c: the fd_sets are glibc's
 * (Debian's lwIP uses the system's socket headers), lwIP's descriptors are
 * small numbers. Blocks in lwip_poll, so lwIP's own wake-ups end it. */
int test_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
  struct pollfd p[64];
  int n = 0;
  for (int fd = 0; fd < nfds && n < 64; fd++) {
    short ev = 0;
    if (r && FD_ISSET(fd, r)) ev |= POLLIN;
    if (w && FD_ISSET(fd, w)) ev |= POLLOUT;
    if (e && FD_ISSET(fd, e)) ev |= POLLERR;
    if (!ev) continue;
    p[n].fd = fd;
    p[n].events = ev;
    p[n].revents = 0;
    n++;
  }
  int ms = tv ? (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000) : -1;
  int rc = lwip_poll(p, (nfds_t)n, ms);
  if (rc < 0) return rc;
  if (r) FD_ZERO(r);
  if (w) FD_ZERO(w);
  if (e) FD_ZERO(e);
  int count = 0;
  for (int i = 0; i < n; i++) {
    if (p[i].revents & POLLNVAL) {
      errno = EBADF; /* as select(2) */
      return -1;
    }
    if (r && (p[i].revents & (POLLIN | POLLERR | POLLHUP))) FD_SET(p[i].fd, r), count++;
    if (w && (p[i].revents & (POLLOUT | POLLERR | POLLHUP))) FD_SET(p[i].fd, w), count++;
  }
  return count;
}
#endif

/* ---------------------------------------------------------- helpers -- */
static _Alignas(16) unsigned char mem[16384];
static ario_loop *loop;

static ario_sqe sqe(uint8_t op, int32_t fd, uint64_t ud) {
  ario_sqe s;
  memset(&s, 0, sizeof s);
  s.op = op;
  s.fd = fd;
  s.user_data = ud;
  return s;
}

/* Reaps until `want` completions arrived (or 3 s passed); res[ud] gets each. */
static int32_t res[16];
static int reap_n(int want) {
  int got = 0;
  int64_t end = ario_now() + 3000000000LL;
  while (got < want && ario_now() < end) {
    ario_cqe c[8];
    int n = ario_reap(loop, c, 8, 100000000);
    if (n < 0) return n;
    for (int i = 0; i < n; i++) {
      if (c[i].user_data < 16) res[c[i].user_data] = c[i].res;
      got++;
    }
  }
  return got;
}

static int addr_of(int fd, unsigned char *a, uint32_t *len) {
  *len = 64;
  return ario_getsockname(fd, a, len);
}

static void *waker(void *arg) {
  struct timespec ts = {0, 50 * 1000000};
  (void)arg;
  nanosleep(&ts, 0);
  ario_wake(loop);
  return 0;
}

int main(void) {
  sys_sem_t up;
  tcpip_init(NULL, NULL);
  if (sys_sem_new(&up, 0) != ERR_OK) return 2;
  tcpip_callback(bring_up, &up);
  sys_sem_wait(&up);
  printf("# lwIP %d.%d.%d, LWIP_SOCKET_OFFSET %d, MEMP_NUM_NETCONN %d, LWIP_SOCKET_SELECT %d, "
         "LWIP_SOCKET_POLL %d, POLLIN/OUT/ERR/NVAL %#x/%#x/%#x/%#x, sizeof(struct pollfd) %zu\n",
         LWIP_VERSION_MAJOR, LWIP_VERSION_MINOR, LWIP_VERSION_REVISION, LWIP_SOCKET_OFFSET,
         MEMP_NUM_NETCONN, LWIP_SOCKET_SELECT, LWIP_SOCKET_POLL, POLLIN, POLLOUT, POLLERR,
         POLLNVAL, sizeof(struct pollfd));

  ario_params p = {.entries = 16};
  size_t need = ario_mem_size(&p);
  int rc = need <= sizeof mem ? ario_init(mem, sizeof mem, &p) : -ENOMEM;
  loop = (ario_loop *)mem;
  CHECK("init", rc == 0 && ario_backend(loop) == BE_ID,
        "ario_init %d, backend %d (" BE " over lwip_poll), %zu B loop memory", rc,
        rc == 0 ? ario_backend(loop) : -1, need);
  if (rc) return 1;

  /* socket numbering: lwIP's descriptors, from LWIP_SOCKET_OFFSET up */
  int lfd = ario_socket(AF_INET, SOCK_STREAM, 0);
  unsigned char la[64];
  uint32_t llen = 0;
  int n = ario_sockaddr_ip(la, sizeof la, "127.0.0.2", 0, 0);
  int b = ario_bind(lfd, la, (uint32_t)n);
  int ls = ario_listen(lfd, 4);
  addr_of(lfd, la, &llen);
  char text[64];
  uint32_t port = 0;
  ario_sockaddr_decode(la, llen, text, sizeof text, &port);
  CHECK("socket-numbering", lfd == LWIP_SOCKET_OFFSET + 1 && b == 0 && ls == 0 && port > 0,
        "listener fd %d (the wake-up socket took one before it), bind %d, listen %d, %s:%u", lfd,
        b, ls, text, (unsigned)port);

  /* non-blocking semantics: accept with nothing pending */
  {
    errno = 0;
    int fd = lwip_accept(lfd, 0, 0);
    int e = errno;
    CHECK("nonblocking-accept", fd < 0 && (e == EAGAIN || e == EWOULDBLOCK),
          "lwip_accept on an idle non-blocking listener: %d, errno %d (%s)", fd, e,
          ario_errno_name(e));
  }

  /* ACCEPT + CONNECT */
  int cfd = ario_socket(AF_INET, SOCK_STREAM, 0);
  ario_sqe s[4];
  s[0] = sqe(ARIO_OP_ACCEPT, lfd, 1);
  s[1] = sqe(ARIO_OP_CONNECT, cfd, 2);
  s[1].addr = (uint64_t)(uintptr_t)la;
  s[1].len = llen;
  int sub = ario_submit(loop, s, 2);
  int got = reap_n(2);
  int afd = res[1];
  CHECK("accept-connect", sub == 2 && got == 2 && afd >= 0 && res[2] == 0,
        "submit %d, %d completions, accept %d, connect %d%s%s", sub, got, afd, res[2],
        res[2] < 0 ? " " : "", res[2] < 0 ? ario_errno_name(-res[2]) : "");
  if (afd < 0) return 1;

  /* SEND one way, RECV the other, then back */
  {
    char out[] = "hello over lwIP", in[32] = {0}, back[32] = {0};
    s[0] = sqe(ARIO_OP_RECV, afd, 3);
    s[0].addr = (uint64_t)(uintptr_t)in;
    s[0].len = sizeof in;
    s[1] = sqe(ARIO_OP_SEND, cfd, 4);
    s[1].addr = (uint64_t)(uintptr_t)out;
    s[1].len = sizeof out;
    ario_submit(loop, s, 2);
    got = reap_n(2);
    int ok1 = got == 2 && res[4] == (int)sizeof out && res[3] == (int)sizeof out && !strcmp(in, out);
    s[0] = sqe(ARIO_OP_SEND, afd, 5);
    s[0].addr = (uint64_t)(uintptr_t)in;
    s[0].len = (uint32_t)res[3];
    s[1] = sqe(ARIO_OP_RECV, cfd, 6);
    s[1].addr = (uint64_t)(uintptr_t)back;
    s[1].len = sizeof back;
    ario_submit(loop, s, 2);
    got = reap_n(2);
    CHECK("send-recv", ok1 && got == 2 && res[6] == (int)sizeof out && !strcmp(back, out),
          "client->server %d/%d B, server->client %d/%d B, '%s'", res[4], res[3], res[5], res[6],
          back);
  }

  /* RECV bounded by LINK_TIMEOUT: nothing arrives */
  {
    char in[8];
    int64_t t0 = ario_now();
    s[0] = sqe(ARIO_OP_RECV, afd, 7);
    s[0].addr = (uint64_t)(uintptr_t)in;
    s[0].len = sizeof in;
    s[0].flags = ARIO_SQE_LINK;
    s[1] = sqe(ARIO_OP_LINK_TIMEOUT, -1, 8);
    s[1].off = 50000000; /* 50 ms */
    ario_submit(loop, s, 2);
    got = reap_n(2);
    int64_t ms = (ario_now() - t0) / 1000000;
    CHECK("recv-link-timeout", got == 2 && res[7] == -ECANCELED && res[8] == -ETIME && ms >= 50 && ms < 1000,
          "recv %d (%s), timeout %d (%s), after %lld ms (bound 50 ms)", res[7],
          ario_errno_name(-res[7]), res[8], ario_errno_name(-res[8]), (long long)ms);
  }

  /* TIMEOUT alone, and ario_wake() from another thread ending a wait */
  {
    int64_t t0 = ario_now();
    s[0] = sqe(ARIO_OP_TIMEOUT, -1, 9);
    s[0].off = 20000000;
    ario_submit(loop, s, 1);
    got = reap_n(1);
    int64_t ms = (ario_now() - t0) / 1000000;
    CHECK("timeout", got == 1 && res[9] == -ETIME && ms >= 20 && ms < 1000,
          "%d (%s) after %lld ms (20 ms)", res[9], ario_errno_name(-res[9]), (long long)ms);
    int h0 = hook_calls, c0 = clock_calls;
    s[0] = sqe(ARIO_OP_TIMEOUT, -1, 9);
    s[0].off = 30000000;
    ario_submit(loop, s, 1);
    ario_cqe one[1];
    ario_reap(loop, one, 1, -1); /* the first wait: bounded by the timer */
    int64_t first = hook_last_ns;
    got = one[0].user_data == 9 ? 1 : reap_n(1);
    CHECK("clock-and-wait-hooks", hook_calls > h0 && clock_calls > c0 && first > 20000000 &&
                                      first <= 30000000,
          "ARIO_LWIP_WAIT_HOOK called %d times, first with %lld ns for a 30 ms TIMEOUT; "
          "ARIO_LWIP_CLOCK_US read %d times",
          hook_calls - h0, (long long)first, clock_calls - c0);
    pthread_t th;
    ario_cqe c[2];
    {
      char ch = 1;
      errno = 0;
      ssize_t sr = lwip_send(1, &ch, 1, MSG_DONTWAIT); /* fd 1: the wake-up socket */
      if (sr < 0) printf("# wake-up socket: send %zd, errno %d (%s)\n", sr, errno, ario_errno_name(errno));
      ario_reap(loop, c, 2, 100000000); /* consumes (drains) that wake-up */
    }
    t0 = ario_now();
    pthread_create(&th, 0, waker, 0);
    int r = ario_reap(loop, c, 2, 5000000000LL); /* nothing in flight: only the wake ends it */
    ms = (ario_now() - t0) / 1000000;
    pthread_join(th, 0);
    CHECK("wake", r == 0 && ms >= 40 && ms < 2000,
          "ario_reap(5 s) returned %d after %lld ms, woken at 50 ms by ario_wake (UDP self-socket)",
          r, (long long)ms);
  }

  /* CANCEL a pending RECV */
  {
    char in[8];
    s[0] = sqe(ARIO_OP_RECV, afd, 10);
    s[0].addr = (uint64_t)(uintptr_t)in;
    s[0].len = sizeof in;
    ario_submit(loop, s, 1);
    ario_cqe c[2];
    ario_reap(loop, c, 2, 10000000);
    s[0] = sqe(ARIO_OP_CANCEL, -1, 11);
    s[0].addr = 10;
    ario_submit(loop, s, 1);
    got = reap_n(2);
    CHECK("cancel", got == 2 && res[10] == -ECANCELED && res[11] == 0, "recv %d, cancel %d", res[10],
          res[11]);
  }

  /* EOF: the client closes, the server's RECV returns 0 */
  {
    char in[8];
    s[0] = sqe(ARIO_OP_RECV, afd, 12);
    s[0].addr = (uint64_t)(uintptr_t)in;
    s[0].len = sizeof in;
    s[1] = sqe(ARIO_OP_CLOSE, cfd, 13);
    ario_submit(loop, s, 2);
    got = reap_n(2);
    CHECK("eof", got == 2 && res[12] == 0 && res[13] == 0, "recv after peer close %d, close %d",
          res[12], res[13]);
  }

  /* a refused connect: nobody listens on that port */
  {
    unsigned char na[64];
    int nl = ario_sockaddr_ip(na, sizeof na, "127.0.0.2", port == 65535 ? 65534 : port + 1, 0);
    int fd = ario_socket(AF_INET, SOCK_STREAM, 0);
    s[0] = sqe(ARIO_OP_CONNECT, fd, 14);
    s[0].addr = (uint64_t)(uintptr_t)na;
    s[0].len = (uint32_t)nl;
    ario_submit(loop, s, 1);
    got = reap_n(1);
    CHECK("connect-refused", got == 1 && (res[14] == -ECONNREFUSED || res[14] == -ECONNRESET),
          "%d (%s; Linux says ECONNREFUSED, lwIP 2.1 reports a RST to a SYN as %s)", res[14],
          ario_errno_name(-res[14]), ario_errno_name(-res[14]));
    ario_close(loop, fd);
  }

  /* a descriptor lwIP never handed out */
  {
    char in[8];
    int bad = LWIP_SOCKET_OFFSET + MEMP_NUM_NETCONN + 3;
    s[0] = sqe(ARIO_OP_RECV, bad, 15);
    s[0].addr = (uint64_t)(uintptr_t)in;
    s[0].len = sizeof in;
    ario_submit(loop, s, 1);
    got = reap_n(1);
    CHECK("ebadf", got == 1 && res[15] == -EBADF, "RECV on fd %d: %d (%s)", bad, res[15],
          ario_errno_name(-res[15]));
  }

  /* ario_pipe / ario_socketpair on lwIP: a loopback TCP pair */
  {
    int32_t pf[2] = {-1, -1}, sp[2] = {-1, -1};
    int pr = ario_pipe(pf);
    char out[] = "pipe", in[8] = {0};
    if (pr == 0) {
      s[0] = sqe(ARIO_OP_SEND, pf[1], 1);
      s[0].addr = (uint64_t)(uintptr_t)out;
      s[0].len = sizeof out;
      s[1] = sqe(ARIO_OP_RECV, pf[0], 2);
      s[1].addr = (uint64_t)(uintptr_t)in;
      s[1].len = sizeof in;
      ario_submit(loop, s, 2);
      reap_n(2);
    }
    int sr = ario_socketpair(AF_INET, SOCK_STREAM, 0, sp);
    int unix_rc = ario_socketpair(AF_UNIX, SOCK_STREAM, 0, sp + 0 /* not written on error */);
    unsigned char ua[64];
    int su = ario_sockaddr_unix(ua, sizeof ua, (const uint8_t *)"x", 1);
    CHECK("pipe-socketpair", pr == 0 && res[1] == (int)sizeof out && !strcmp(in, out) && sr == 0 &&
                                 unix_rc == -EAFNOSUPPORT && su == -EAFNOSUPPORT,
          "ario_pipe %d fds %d/%d moved '%s', socketpair(AF_INET) %d, socketpair(AF_UNIX) %s, "
          "sockaddr_unix %s",
          pr, pf[0], pf[1], in, sr, ario_errno_name(-unix_rc), ario_errno_name(-su));
    if (pr == 0) ario_close(loop, pf[0]), ario_close(loop, pf[1]);
    if (sr == 0) ario_close(loop, sp[0]), ario_close(loop, sp[1]);
  }

  ario_close(loop, afd);
  ario_close(loop, lfd);
  ario_deinit(loop);
  return failed;
}
