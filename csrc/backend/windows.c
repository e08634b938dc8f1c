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
#define B(l) (&(l)->bs.windows)

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

static WSAPOLLFD *waiter_copy(ario_loop *l) { return B(l)->pfd + l->fd_cap + 1; }

static int win_init(ario_loop *l, void *mem) {
  WSADATA wd;
  if (WSAStartup(MAKEWORD(2, 2), &wd) != 0) return -ENOSYS;
  B(l)->pfd = (WSAPOLLFD *)mem;
  for (uint32_t i = 0; i < l->fd_cap; i++) {
    B(l)->pfd[i].fd = INVALID_SOCKET;
    B(l)->pfd[i].events = 0;
  }
  int wake_wr, rc = ario__sys_wake_open(&B(l)->wake, &wake_wr);
  if (rc < 0) return rc; /* a UDP socket: one descriptor, wake_wr == wake */
  B(l)->pfd[l->fd_cap].fd = (SOCKET)B(l)->wake;
  B(l)->pfd[l->fd_cap].events = POLLRDNORM;
  InitializeCriticalSection(&B(l)->mu);
  return 0;
}

static void win_deinit(ario_loop *l) {
  ario__sys_wake_close(B(l)->wake, B(l)->wake);
  DeleteCriticalSection(&B(l)->mu);
  WSACleanup();
}

static void win_wake(ario_loop *l) { ario__sys_wake_send(B(l)->wake); }

static void drain(ario_loop *l) { ario__sys_wake_drain(B(l)->wake); }

/* WSAPoll wants POLLRDNORM/POLLWRNORM (POLLPRI is refused). */
static short to_wsa(unsigned want) {
  return (short)((want & ARIO_POLL_IN ? POLLRDNORM : 0) | (want & ARIO_POLL_OUT ? POLLWRNORM : 0));
}

static void set_slot(ario_loop *l, uint32_t slot, SOCKET fd, short events) {
  EnterCriticalSection(&B(l)->mu);
  B(l)->pfd[slot].fd = fd;
  B(l)->pfd[slot].events = events;
  LeaveCriticalSection(&B(l)->mu);
  if (ARIO_LOAD(&l->waiting, __ATOMIC_SEQ_CST)) win_wake(l);
}

static int win_watch(ario_loop *l, uint32_t slot, unsigned want) {
  set_slot(l, slot, (SOCKET)l->fds[slot].fd, to_wsa(want));
  return 0;
}

static void win_forget(ario_loop *l, uint32_t slot) { set_slot(l, slot, INVALID_SOCKET, 0); }

static int win_poll(ario_loop *l, int64_t timeout_ns) {
  WSAPOLLFD *p = B(l)->pfd;
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
  EnterCriticalSection(&B(l)->mu);
  memcpy(c, B(l)->pfd, (l->fd_cap + 1) * sizeof *c);
  LeaveCriticalSection(&B(l)->mu);
  int n = WSAPoll(c, l->fd_cap + 1, ario__ns_to_ms(timeout_ns));
  if (n < 0) return -errno;
  if (n == 1 && c[l->fd_cap].revents) drain(l);
  return n > 0;
}

const ario__backend ario__backend_windows = ARIO__READINESS_BACKEND(ARIO_BACKEND_WINDOWS, win);
#endif
