/*
 * ario_win_compat.h: what the C tests (csrc/test/) take from POSIX, in
 * Winsock terms, for their Windows build under Wine (scripts/test-foreign.sh
 * force-includes it into the tests only, not the library; the POSIX header
 * names in this folder just include it).
 *
 * Sockets work as on POSIX: close/read/write on a SOCKET go to closesocket/
 * recv/send. What Windows does not have ends the test with exit 77 and the
 * reason (liburing's skip convention, as test.h says): fcntl on
 * non-sockets, renumbering a descriptor, resource limits. socketpair() and
 * pipe() are a loopback TCP pair (WSAPoll waits on sockets only).
 */
#ifndef ARIO_WIN_COMPAT_H
#define ARIO_WIN_COMPAT_H
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <errno.h>
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#undef far /* windef.h's, a test's variable name */
#undef near

static inline void ario_win_skip(const char *why) {
  printf("SKIP: %s\n", why);
  fflush(stdout);
  exit(77);
}

/* Winsock must be started before the first socket (the library's loop
 * starts it too, but tests make sockets before and after their loops). */
__attribute__((constructor)) static inline void ario_win_startup(void) {
  WSADATA wd;
  WSAStartup(MAKEWORD(2, 2), &wd);
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
}

static inline int ario_win_is_socket(int fd) {
  int type, len = sizeof type;
  return getsockopt((SOCKET)fd, SOL_SOCKET, SO_TYPE, (char *)&type, &len) == 0;
}

/* errno after a socket call is Winsock's error, as the POSIX name. */
static inline int ario_win_errno_of(int wsa) {
  switch (wsa) {
  case WSAEWOULDBLOCK: return EAGAIN;
  case WSAECONNRESET: return ECONNRESET;
  case WSAECONNREFUSED: return ECONNREFUSED;
  case WSAENOTCONN: return ENOTCONN;
  case WSAESHUTDOWN: return EPIPE;
  case WSAENOTSOCK: return EBADF;
  case WSAEINVAL: return EINVAL;
  case WSAEINPROGRESS: return EINPROGRESS;
  default: return EIO;
  }
}
static inline int ario_win_fail(void) {
  errno = ario_win_errno_of(WSAGetLastError());
  return -1;
}

static inline int ario_win_close(int fd) {
  if (ario_win_is_socket(fd)) return closesocket((SOCKET)fd) == 0 ? 0 : ario_win_fail();
  return _close(fd);
}
static inline int ario_win_read(int fd, void *buf, size_t n) {
  if (!ario_win_is_socket(fd)) return _read(fd, buf, (unsigned)n);
  int r = recv((SOCKET)fd, (char *)buf, (int)n, 0);
  return r >= 0 ? r : ario_win_fail();
}
static inline int ario_win_write(int fd, const void *buf, size_t n) {
  if (!ario_win_is_socket(fd)) return _write(fd, buf, (unsigned)n);
  int r = send((SOCKET)fd, (const char *)buf, (int)n, 0);
  return r >= 0 ? r : ario_win_fail();
}
/* Winsock's option values are char pointers. */
#define setsockopt(s, l, n, v, len) setsockopt(s, l, n, (const char *)(v), len)
#define getsockopt(s, l, n, v, len) getsockopt(s, l, n, (char *)(v), len)

/* socket(2)'s type flags, applied after the fact. */
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC 02000000
static inline int ario_win_socket(int d, int t, int p) {
  SOCKET s = socket(d, t & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), p);
  if (s == INVALID_SOCKET) return ario_win_fail();
  u_long on = 1;
  if (t & SOCK_NONBLOCK) ioctlsocket(s, FIONBIO, &on);
  return (int)s;
}
#define socket(d, t, p) ario_win_socket(d, t, p)

#define close(fd) ario_win_close(fd)
#define read(fd, b, n) ario_win_read(fd, b, n)
#define write(fd, b, n) ario_win_write(fd, b, n)

/* No SIGPIPE: a send on a closed socket fails with an error, never a signal. */
#define SIGPIPE 13
static inline void (*ario_win_signal(int sig, void (*h)(int)))(int) {
  return sig == SIGPIPE ? SIG_DFL : signal(sig, h);
}
#define signal(sig, h) ario_win_signal(sig, h)

/* fcntl: O_NONBLOCK on a socket (FIONBIO; Winsock cannot read it back, so
 * F_GETFL reports 0), F_GETFD; anything else is POSIX-only. */
#define F_GETFL 3
#define F_SETFL 4
#define F_GETFD 1
#define F_SETFD 2
#define FD_CLOEXEC 1
#define F_DUPFD_CLOEXEC 1030
#define O_CLOEXEC _O_NOINHERIT
#define O_NONBLOCK 04000
static inline int ario_win_fcntl(int fd, int cmd, ...) {
  va_list ap;
  long arg;
  if (!ario_win_is_socket(fd)) {
    /* tests ask F_GETFD whether a number is closed: only sockets are open */
    if (cmd == F_GETFD) return errno = EBADF, -1;
    ario_win_skip("fcntl on a non-socket: POSIX-only");
  }
  if (cmd == F_GETFL || cmd == F_GETFD || cmd == F_SETFD) return 0;
  if (cmd != F_SETFL) ario_win_skip("fcntl command other than F_[GS]ETF[LD]: POSIX-only");
  va_start(ap, cmd);
  arg = va_arg(ap, long);
  va_end(ap);
  u_long on = (arg & O_NONBLOCK) ? 1 : 0;
  return ioctlsocket((SOCKET)fd, FIONBIO, &on) == 0 ? 0 : ario_win_fail();
}
#define fcntl ario_win_fcntl

/* socketpair(AF_UNIX, SOCK_STREAM): Winsock has none; a loopback TCP pair
 * is the same byte stream (the library's ario_pipe is made so on Windows). */
static inline int ario_win_socketpair(int d, int t, int p, int sv[2]) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  int al = sizeof a;
  (void)d, (void)p;
  if (t != SOCK_STREAM) ario_win_skip("socketpair() other than SOCK_STREAM: Winsock has none");
  SOCKET l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s = INVALID_SOCKET;
  if (l == INVALID_SOCKET || c == INVALID_SOCKET || bind(l, (void *)&a, sizeof a) ||
      listen(l, 1) || getsockname(l, (void *)&a, &al) || connect(c, (void *)&a, sizeof a) ||
      (s = accept(l, 0, 0)) == INVALID_SOCKET)
    ario_win_skip("socketpair(): no loopback TCP pair");
  closesocket(l);
  sv[0] = (int)c;
  sv[1] = (int)s;
  return 0;
}
#define socketpair(d, t, p, sv) ario_win_socketpair(d, t, p, sv)
/* pipe(): CRT pipes are not sockets, which WSAPoll waits on only: the same
 * pair (p[0] reads what p[1] writes), as the library's ario_pipe. */
#define pipe(p) ario_win_socketpair(AF_UNIX, SOCK_STREAM, 0, p)
#define dup(fd) ((void)(fd), ario_win_skip("dup(): a SOCKET cannot be duplicated so"), -1)
#define dup2(a, b) ((void)(a), (void)(b), ario_win_skip("dup2(): a SOCKET cannot be renumbered"), -1)

/* Resource limits: POSIX-only. */
#define RLIMIT_NOFILE 7
typedef unsigned long long rlim_t;
struct rlimit {
  rlim_t rlim_cur, rlim_max;
};
#define getrlimit(r, l) ((void)(r), (void)(l), ario_win_skip("getrlimit(): POSIX-only"), -1)
#define setrlimit(r, l) ((void)(r), (void)(l), ario_win_skip("setrlimit(): POSIX-only"), -1)

static inline int setenv(const char *k, const char *v, int overwrite) {
  return !overwrite && getenv(k) ? 0 : _putenv_s(k, v);
}
static inline int unsetenv(const char *k) { return _putenv_s(k, ""); }
#define aligned_alloc(a, n) _aligned_malloc(n, a)

/* Clocks and sleeps (mingw's come from winpthreads, which zig lacks). */
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
static inline int ario_win_clock_gettime(int clk, struct timespec *ts) {
  unsigned long long t;
  if (clk == CLOCK_REALTIME) { /* 100 ns since 1601 */
    FILETIME f;
    GetSystemTimePreciseAsFileTime(&f);
    t = (((unsigned long long)f.dwHighDateTime << 32) | f.dwLowDateTime) - 116444736000000000ull;
    ts->tv_sec = (time_t)(t / 10000000);
    ts->tv_nsec = (long)(t % 10000000) * 100;
  } else {
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    ts->tv_sec = (time_t)(c.QuadPart / f.QuadPart);
    ts->tv_nsec = (long)((c.QuadPart % f.QuadPart) * 1000000000 / f.QuadPart);
  }
  return 0;
}
#define clock_gettime(clk, ts) ario_win_clock_gettime(clk, ts)
static inline int ario_win_nanosleep(const struct timespec *d, struct timespec *rem) {
  (void)rem;
  Sleep((DWORD)(d->tv_sec * 1000 + (d->tv_nsec + 999999) / 1000000));
  return 0;
}
#define nanosleep(d, rem) ario_win_nanosleep(d, rem)

/* MSG_* flags Winsock lacks: as the library's Windows build sees them
 * (csrc/sys.h: MSG_DONTWAIT 0, no MSG_NOSIGNAL), and MSG_ERRQUEUE with
 * Linux's value, a flag the library refuses (-EINVAL) everywhere. */
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif
#ifndef MSG_TRUNC
#define MSG_TRUNC 0x20
#endif
#ifndef MSG_ERRQUEUE
#define MSG_ERRQUEUE 0x2000
#endif
#ifndef MSG_CMSG_CLOEXEC
#define MSG_CMSG_CLOEXEC 0 /* absent: the library's Windows build sees 0 too */
#endif
/* Files: the Windows build has no file pool (OPENAT -EOPNOTSUPP); the
 * generators still build OPENAT entries with these */
#ifndef AF_PACKET
#define AF_PACKET 17 /* Linux's value; Winsock has none (socket() refuses it) */
#endif
#ifndef AT_FDCWD
#define AT_FDCWD (-100)
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif
#endif
