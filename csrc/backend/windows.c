/*
 * backend/windows.c: Windows readiness through WSAPoll, the poll backend's
 * design in Winsock terms: one WSAPOLLFD per fd-table slot, plus a loopback
 * UDP socket connected to itself for ario_wake() (WSAPoll waits on sockets
 * only). A waiting thread polls its own copy, taken under a critical
 * section. Descriptors are SOCKETs carried in int32 (they fit in practice).
 * Written to the same contract as poll.c; its C tests run under Wine
 * (scripts/test-foreign.sh windows).
 */
#include "../ario_internal.h"
#include "../sys.h"

#if defined(ARIO_HAVE_WINDOWS)

/* errno for Winsock calls (sys.h maps errno here on Windows). */
int ario__sys_errno(void) {
  int e = WSAGetLastError();
  switch (e) {
  case 0: return *_errno();
  case WSAEWOULDBLOCK: return EAGAIN;
  case WSAEINPROGRESS: return EINPROGRESS;
  case WSAEALREADY: return EALREADY;
  case WSAEINTR: return EINTR;
  case WSAEBADF: case WSAENOTSOCK: return EBADF;
  case WSAEINVAL: return EINVAL;
  case WSAEFAULT: return EFAULT;
  case WSAEMFILE: return EMFILE;
  case WSAECONNREFUSED: return ECONNREFUSED;
  case WSAECONNRESET: return ECONNRESET;
  case WSAECONNABORTED: return ECONNABORTED;
  case WSAENOTCONN: return ENOTCONN;
  case WSAESHUTDOWN: return EPIPE;
  case WSAETIMEDOUT: return ETIMEDOUT;
  case WSAEADDRINUSE: return EADDRINUSE;
  case WSAEADDRNOTAVAIL: return EADDRNOTAVAIL;
  case WSAENETUNREACH: return ENETUNREACH;
  case WSAEHOSTUNREACH: return EHOSTUNREACH;
  case WSAEAFNOSUPPORT: return EAFNOSUPPORT;
  case WSAEOPNOTSUPP: return EOPNOTSUPP;
  case WSAEMSGSIZE: return EMSGSIZE;
  case WSAENOBUFS: return ENOBUFS;
  case WSAEISCONN: return EISCONN;
  default: return EIO;
  }
}

static size_t win_mem_size(uint32_t fd_cap) {
  return 2 * (fd_cap + 1) * sizeof(WSAPOLLFD);
}

static WSAPOLLFD *waiter_copy(ario_loop *l) { return l->bs.pfd + l->fd_cap + 1; }

static int win_init(ario_loop *l, void *mem) {
  WSADATA wd;
  struct sockaddr_in a;
  int al = sizeof a;
  if (WSAStartup(MAKEWORD(2, 2), &wd) != 0) return -ENOSYS;
  l->bs.pfd = (WSAPOLLFD *)mem;
  for (uint32_t i = 0; i < l->fd_cap; i++) {
    l->bs.pfd[i].fd = INVALID_SOCKET;
    l->bs.pfd[i].events = 0;
  }
  SOCKET s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s == INVALID_SOCKET) return -errno;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
      getsockname(s, (struct sockaddr *)&a, &al) != 0 ||
      connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
    int e = -errno;
    closesocket(s);
    return e;
  }
  u_long on = 1;
  ioctlsocket(s, FIONBIO, &on);
  l->bs.wake_rd = l->bs.wake_wr = (int)s;
  l->bs.pfd[l->fd_cap].fd = s;
  l->bs.pfd[l->fd_cap].events = POLLRDNORM;
  InitializeCriticalSection(&l->bs.mu);
  return 0;
}

static void win_deinit(ario_loop *l) {
  closesocket((SOCKET)l->bs.wake_rd);
  DeleteCriticalSection(&l->bs.mu);
  WSACleanup();
}

static void win_wake(ario_loop *l) {
  char c = 1;
  send((SOCKET)l->bs.wake_wr, &c, 1, 0); /* a full buffer already wakes */
}

static void drain(ario_loop *l) {
  char buf[64];
  while (recv((SOCKET)l->bs.wake_rd, buf, sizeof buf, 0) > 0) {
  }
}

/* WSAPoll wants POLLRDNORM/POLLWRNORM (POLLPRI is refused). */
static short to_wsa(unsigned want) {
  return (short)((want & ARIO_POLL_IN ? POLLRDNORM : 0) | (want & ARIO_POLL_OUT ? POLLWRNORM : 0));
}

static void set_slot(ario_loop *l, uint32_t slot, SOCKET fd, short events) {
  EnterCriticalSection(&l->bs.mu);
  l->bs.pfd[slot].fd = fd;
  l->bs.pfd[slot].events = events;
  LeaveCriticalSection(&l->bs.mu);
  if (ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST)) win_wake(l);
}

static int win_watch(ario_loop *l, uint32_t slot, unsigned want) {
  set_slot(l, slot, (SOCKET)l->fds[slot].fd, to_wsa(want));
  return 0;
}

static void win_forget(ario_loop *l, uint32_t slot) { set_slot(l, slot, INVALID_SOCKET, 0); }

static int win_poll(ario_loop *l, int64_t timeout_ns) {
  WSAPOLLFD *p = l->bs.pfd;
  int n = WSAPoll(p, l->fd_cap + 1, ario__ns_to_ms(timeout_ns));
  if (n < 0) return -errno;
  if (p[l->fd_cap].revents && ario__owner_may_drain(l)) drain(l);
  for (uint32_t s = 0; s < l->fd_cap && n > 0; s++) {
    unsigned r = (unsigned)p[s].revents, out = 0;
    if (!r || p[s].fd == INVALID_SOCKET) continue;
    p[s].revents = 0;
    if (r & (POLLRDNORM | POLLRDBAND)) out |= ARIO_POLL_IN;
    if (r & POLLWRNORM) out |= ARIO_POLL_OUT;
    if (r & (POLLERR | POLLNVAL)) out |= ARIO_POLL_ERR;
    if (r & POLLHUP) out |= ARIO_POLL_HUP | ARIO_POLL_IN;
    ario__fd_ready(l, s, out);
  }
  return n;
}

static int win_wait_ready(ario_loop *l, int64_t timeout_ns) {
  WSAPOLLFD *c = waiter_copy(l);
  EnterCriticalSection(&l->bs.mu);
  memcpy(c, l->bs.pfd, (l->fd_cap + 1) * sizeof *c);
  LeaveCriticalSection(&l->bs.mu);
  int n = WSAPoll(c, l->fd_cap + 1, ario__ns_to_ms(timeout_ns));
  if (n < 0) return -errno;
  if (n == 1 && c[l->fd_cap].revents) drain(l);
  return n > 0;
}

const ario__backend ario__backend_windows = {
    .id = ARIO_BACKEND_WINDOWS,
    .mem_size = win_mem_size,
    .init = win_init,
    .deinit = win_deinit,
    .watch = win_watch,
    .forget = win_forget,
    .poll = win_poll,
    .wait = win_wait_ready,
    .wake = win_wake,
};
#endif
