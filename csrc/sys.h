/*
 * sys.h: the OS headers behind ops.c, sock.c and the host backends.
 */
#ifndef ARIO_SYS_H
#define ARIO_SYS_H

#include "platform.h"

#if defined(_WIN32) && !defined(ARIO_LWIP) && !defined(ARIO_BARE)
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <fcntl.h>
#include <io.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
typedef SSIZE_T ssize_t;
/* Winsock reports errors through WSAGetLastError(): errno reads it (mapped
 * to the errno values) after a failed socket call, the CRT's otherwise. */
int ario__sys_errno(void);
#undef errno
#define errno (ario__sys_errno())
#define close(fd) closesocket((SOCKET)(fd))
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0 /* ario's sockets are non-blocking */
#endif
/* The few POSIX calls sock.c makes, in Winsock/CRT terms. */
#define F_GETFL 3
#define F_SETFL 4
#define O_NONBLOCK 04000
static inline int ario__win_fcntl(int fd, int cmd, ...) {
  va_list ap;
  long arg;
  if (cmd != F_SETFL) return 0;
  va_start(ap, cmd);
  arg = va_arg(ap, long);
  va_end(ap);
  u_long on = (arg & O_NONBLOCK) ? 1 : 0;
  return ioctlsocket((SOCKET)fd, FIONBIO, &on) == 0 ? 0 : -1;
}
#define fcntl ario__win_fcntl
typedef ADDRESS_FAMILY sa_family_t;
#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC 1
#endif
static inline int ario__win_clock(int clk, struct timespec *ts) {
  LARGE_INTEGER f, c;
  (void)clk;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  ts->tv_sec = (time_t)(c.QuadPart / f.QuadPart);
  ts->tv_nsec = (long)((c.QuadPart % f.QuadPart) * 1000000000 / f.QuadPart);
  return 0;
}
#define clock_gettime(clk, ts) ario__win_clock(clk, ts)
#define pipe(p) _pipe(p, 4096, _O_BINARY)
static inline int socketpair(int d, int t, int p, int sv[2]) {
  (void)d, (void)t, (void)p, (void)sv;
  WSASetLastError(WSAEOPNOTSUPP);
  return -1;
}
#elif defined(ARIO_LWIP)
/* lwIP (ESP-IDF): sockets by their BSD names (LWIP_COMPAT_SOCKETS), the
 * descriptor calls (close, fcntl, read, write, select) from the C library's
 * VFS (LWIP_POSIX_SOCKETS_IO_NAMES 0, as ESP-IDF builds it). No Unix
 * sockets, no socketpair, no pipe: sock.c says what replaces them. */
#include "lwip/init.h"
#include "lwip/sockets.h"
#include "lwip/inet.h"
#include <fcntl.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#if !LWIP_COMPAT_SOCKETS
/* lwIP built without the BSD names (Debian's unix port, tests/mcu/lwip/):
 * map the calls ario makes onto lwIP's, after the system's declarations. */
#define socket(d, t, p) lwip_socket(d, t, p)
#define bind(s, a, l) lwip_bind(s, a, l)
#define listen(s, b) lwip_listen(s, b)
#define accept(s, a, l) lwip_accept(s, a, l)
#define connect(s, a, l) lwip_connect(s, a, l)
#define recv(s, b, n, f) lwip_recv(s, b, n, f)
#define send(s, b, n, f) lwip_send(s, b, n, f)
#define recvfrom(s, b, n, f, a, l) lwip_recvfrom(s, b, n, f, a, l)
#define sendto(s, b, n, f, a, l) lwip_sendto(s, b, n, f, a, l)
#define shutdown(s, h) lwip_shutdown(s, h)
#define getsockname(s, a, l) lwip_getsockname(s, a, l)
#define getpeername(s, a, l) lwip_getpeername(s, a, l)
#define getsockopt(s, v, n, o, l) lwip_getsockopt(s, v, n, o, l)
#define setsockopt(s, v, n, o, l) lwip_setsockopt(s, v, n, o, l)
#define close(s) lwip_close(s)
#define read(s, b, n) lwip_read(s, b, n)
#define write(s, b, n) lwip_write(s, b, n)
#define inet_pton(f, s, d) lwip_inet_pton(f, s, d)
#define inet_ntop(f, s, d, n) lwip_inet_ntop(f, s, d, n)
static inline int ario__lwip_fcntl(int s, int cmd, ...) {
  int val = 0;
  if (cmd == F_SETFL) {
    va_list ap;
    va_start(ap, cmd);
    val = va_arg(ap, int);
    va_end(ap);
  }
  return lwip_fcntl(s, cmd, val);
}
#define fcntl ario__lwip_fcntl
#if LWIP_SOCKET_POLL
#define poll(f, n, t) lwip_poll(f, n, t)
#endif
/* accept4 (ops.c on a Linux host): lwIP's accept, then non-blocking */
static inline int ario__lwip_accept4(int s, struct sockaddr *a, socklen_t *l, int flags) {
  int fd = lwip_accept(s, a, l);
  if (fd >= 0 && (flags & O_NONBLOCK)) lwip_fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}
#undef SOCK_NONBLOCK
#undef SOCK_CLOEXEC
#define SOCK_NONBLOCK O_NONBLOCK
#define SOCK_CLOEXEC 0
#define accept4 ario__lwip_accept4
#endif
#if !defined(LWIP_VERSION_MAJOR) || LWIP_VERSION_MAJOR < 2
#error "ario's lwIP profile needs lwIP 2.x"
#endif
/* ARIO_LWIP_SELECT=fn: the select() the select backend calls, for an lwIP
 * built without its own (tests/mcu/lwip/ runs backend/select.c so, over a
 * select made of lwip_poll). */
#if defined(ARIO_LWIP_SELECT)
int ARIO_LWIP_SELECT(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv);
#undef select
#define select(n, r, w, e, t) ARIO_LWIP_SELECT(n, r, w, e, t)
#elif !LWIP_SOCKET_SELECT && !defined(ARIO_LWIP_POLL)
#error "lwIP without select (LWIP_SOCKET_SELECT 0): build with -DARIO_LWIP_POLL and backend/lwip_poll.c"
#endif
/* ARIO_LWIP_WAIT_HOOK: a function firmware may name (-DARIO_LWIP_WAIT_HOOK=
 * my_hook) that the lwIP backends call just before they block in select()/
 * poll(), with the bound in ns (<0: none). lwIP's select sleeps in whole
 * RTOS ticks (10 ms at ESP-IDF's default CONFIG_FREERTOS_HZ=100): the hook
 * can arm a one-shot esp_timer for that bound whose callback calls
 * ario_wake(), so a timer fires to esp_timer's precision, not the tick's. */
struct ario_loop;
#if defined(ARIO_LWIP_WAIT_HOOK)
void ARIO_LWIP_WAIT_HOOK(struct ario_loop *loop, int64_t timeout_ns);
#define ARIO__LWIP_BEFORE_WAIT(l, ns) ARIO_LWIP_WAIT_HOOK(l, ns)
#endif
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>      /* pidfd_open */
#include <net/ethernet.h>     /* ETH_P_* */
#include <netpacket/packet.h> /* sockaddr_ll, PACKET_* */
#endif
#endif

#ifndef ARIO__LWIP_BEFORE_WAIT /* the lwIP backends' wait hook: none */
#define ARIO__LWIP_BEFORE_WAIT(l, ns) ((void)(l), (void)(ns))
#endif

/* Makes a descriptor non-blocking and close-on-exec (and, where the
 * platform has it, free of SIGPIPE). Returns 0 or -errno. */
int ario__sys_prepare_fd(int fd);

/* Whether socket `fd` is connected: it has a peer (getpeername). */
int ario__sys_has_peer(int fd);

/* The wake channel of the poll, select, lwip_poll and Windows backends
 * (ario_wake() from any thread): a pipe on POSIX hosts; where there are no
 * pipes (lwIP, Winsock), a UDP socket on 127.0.0.1 connected to itself,
 * rd == wr. Both ends non-blocking. open returns 0 or -errno; send never
 * blocks (a full channel already wakes); drain empties it. */
int ario__sys_wake_open(int *rd, int *wr);
void ario__sys_wake_close(int rd, int wr);
void ario__sys_wake_send(int wr);
void ario__sys_wake_drain(int rd);

/* Converts a timeout in ns (<0: none) to poll(2)'s milliseconds, rounding
 * up so a wait never ends before its deadline. */
int ario__ns_to_ms(int64_t ns);

#endif
