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
#include "lwip/sockets.h"
#include "lwip/inet.h"
#include <fcntl.h>
#include <unistd.h>
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
#endif

/* Makes a descriptor non-blocking and close-on-exec (and, where the
 * platform has it, free of SIGPIPE). Returns 0 or -errno. */
int ario__sys_prepare_fd(int fd);

/* Converts a timeout in ns (<0: none) to poll(2)'s milliseconds, rounding
 * up so a wait never ends before its deadline. */
int ario__ns_to_ms(int64_t ns);

#endif
