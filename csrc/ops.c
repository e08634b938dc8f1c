/*
 * ops.c: performs an op's syscall without blocking, for the readiness
 * backends (epoll, poll, select). POSIX and lwIP hosts; the MCU test
 * harness brings its own.
 */
#include "ario_internal.h"
#include "sys.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set at socket creation */
#endif
#ifndef MSG_WAITALL
#define MSG_WAITALL 0
#endif

#if defined(MSG_CMSG_CLOEXEC)
#define M_CMSG_CLOEXEC MSG_CMSG_CLOEXEC
#else
#define M_CMSG_CLOEXEC 0 /* macOS: cloexec_received() */
#endif

static int32_t neg_errno(void) { return errno ? -errno : -EINVAL; }

/* The sim backend may interrupt a syscall (errno EINTR), as a signal
 * would: the loops below must retry. Compiled out where there is no sim. */
#if defined(ARIO_HAVE_SIM)
#define SIM_EINTR(l) (ARIO__IS_SIM(l) && ario__sim_eintr(l) && (errno = EINTR, 1))
#else
#define SIM_EINTR(l) ((void)(l), 0)
#endif

/* One non-blocking transfer of a RECV/SEND family op. With MSG_WAITALL it
 * keeps going (progress in op->res) until the whole length moved, as
 * io_uring does for stream sockets. */
static int32_t transfer(ario_loop *l, ario__op *op) {
  uint32_t done = (uint32_t)op->res;
  char *buf = (char *)op->addr + done;
  size_t want = op->len - done;
  int flags = (int)(op->op_flags & ~(uint32_t)MSG_WAITALL) | MSG_DONTWAIT;
  ssize_t n;
  for (;;) {
    if (SIM_EINTR(l))
      n = -1;
    else switch (op->op) {
    case ARIO_OP_RECV: n = recv(op->fd, buf, want, flags); break;
    case ARIO_OP_SEND: n = send(op->fd, buf, want, flags | MSG_NOSIGNAL); break;
    case ARIO_OP_RECVFROM: {
      uint32_t *lenp = (uint32_t *)(uintptr_t)op->off;
      socklen_t sl = lenp ? (socklen_t)*lenp : 0;
      n = recvfrom(op->fd, buf, want, flags, (struct sockaddr *)op->addr2,
                   op->addr2 ? &sl : 0);
      if (n >= 0 && lenp) *lenp = (uint32_t)sl;
      break;
    }
    default: /* SENDTO */
      n = sendto(op->fd, buf, want, flags | MSG_NOSIGNAL,
                 (const struct sockaddr *)op->addr2, (socklen_t)op->off);
      break;
    }
    if (n >= 0 || errno != EINTR) break;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
    return done ? (int32_t)done : neg_errno();
  }
  done += (uint32_t)n;
  int stream_more = (op->op_flags & MSG_WAITALL) && n > 0 && done < op->len;
  if (stream_more) {
    op->res = (int32_t)done;
    return -EAGAIN;
  }
  return (int32_t)done;
}

static int32_t rw(ario_loop *l, ario__op *op) {
  ssize_t n;
#if defined(_WIN32)
  /* Windows: descriptors are sockets; READ/WRITE are recv/send */
  (void)l;
  n = op->op == ARIO_OP_READ ? recv((SOCKET)op->fd, (char *)op->addr, (int)op->len, 0)
                             : send((SOCKET)op->fd, (const char *)op->addr, (int)op->len, 0);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : neg_errno();
  return (int32_t)n;
#else
  do {
    void *buf = (void *)op->addr;
    if (SIM_EINTR(l))
      n = -1;
    else if (op->off == ARIO_OFF_CURRENT)
      n = op->op == ARIO_OP_READ ? read(op->fd, buf, op->len)
                                 : write(op->fd, buf, op->len);
    else
      n = op->op == ARIO_OP_READ ? pread(op->fd, buf, op->len, (off_t)op->off)
                                 : pwrite(op->fd, buf, op->len, (off_t)op->off);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : neg_errno();
  return (int32_t)n;
#endif
}

/* ------------------------------------ READV, WRITEV, RECVMSG, SENDMSG -- */

#if defined(_WIN32)
typedef WSABUF sys_iov;
#define IOV_SET(v, b, n) ((v)->buf = (char *)(b), (v)->len = (ULONG)(n))
#else
typedef struct iovec sys_iov;
#define IOV_SET(v, b, n) ((v)->iov_base = (void *)(b), (v)->iov_len = (size_t)(n))
#endif

/* The platform's iovecs of an ario_iovec array, into `out` (the caller's
 * stack). Checked again: the array may have changed since validation. */
static int32_t to_sys_iov(sys_iov *out, uint64_t iov, uint64_t n) {
  if (n > ARIO_IOV_MAX) return -EINVAL;
  if (n && !iov) return -EFAULT;
  const ario_iovec *v = (const ario_iovec *)(uintptr_t)iov;
  for (uint64_t k = 0; k < n; k++) IOV_SET(&out[k], (uintptr_t)v[k].base, v[k].len);
  return 0;
}

static int32_t sys_res(ssize_t n) {
  if (n >= 0) return (int32_t)n;
  return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : neg_errno();
}

/* READV/WRITEV: readv/writev (preadv/pwritev at an offset); on Windows and
 * lwIP, where descriptors are sockets, WSARecv/WSASend and recvmsg/sendmsg. */
static int32_t rwv(ario_loop *l, ario__op *op) {
  sys_iov v[ARIO_IOV_MAX];
  int32_t rc = to_sys_iov(v, op->addr, op->len);
  if (rc) return rc;
  int rd = op->op == ARIO_OP_READV;
  ssize_t n;
#if defined(_WIN32)
  (void)l;
  DWORD got = 0, fl = 0;
  int r = rd ? WSARecv((SOCKET)op->fd, v, (DWORD)op->len, &got, &fl, 0, 0)
             : WSASend((SOCKET)op->fd, v, (DWORD)op->len, &got, 0, 0, 0);
  n = r == 0 ? (ssize_t)got : -1;
#elif defined(ARIO_LWIP)
  (void)l;
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = v;
  m.msg_iovlen = (int)op->len;
  n = rd ? recvmsg(op->fd, &m, MSG_DONTWAIT) : sendmsg(op->fd, &m, MSG_DONTWAIT);
#else
  do {
    if (SIM_EINTR(l))
      n = -1;
    else if (op->off == ARIO_OFF_CURRENT)
      n = rd ? readv(op->fd, v, (int)op->len) : writev(op->fd, v, (int)op->len);
    else
      n = rd ? preadv(op->fd, v, (int)op->len, (off_t)op->off)
             : pwritev(op->fd, v, (int)op->len, (off_t)op->off);
  } while (n < 0 && errno == EINTR);
#endif
  return sys_res(n);
}

#if !defined(_WIN32) && !defined(ARIO_LWIP) && !defined(MSG_CMSG_CLOEXEC)
/* No MSG_CMSG_CLOEXEC (macOS): received descriptors become close-on-exec
 * here, before anything else runs on this thread. */
static void cloexec_received(struct msghdr *m) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t k = 0; k < n; k++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + k * sizeof fd, sizeof fd);
      fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
}
#endif

/* RECVMSG/SENDMSG: one recvmsg/sendmsg on a converted msghdr; RECVMSG
 * copies namelen (when there is a name), controllen and flags back. Windows
 * and lwIP carry no control messages: -EOPNOTSUPP when some are given. */
static int32_t msg(ario_loop *l, ario__op *op) {
  ario_msghdr *am = (ario_msghdr *)op->addr;
  sys_iov v[ARIO_IOV_MAX];
  int32_t rc = to_sys_iov(v, am->iov, am->iovlen);
  if (rc) return rc;
  int rd = op->op == ARIO_OP_RECVMSG;
  ssize_t n;
#if defined(_WIN32) || defined(ARIO_LWIP)
  if (am->controllen) return -EOPNOTSUPP;
#endif
#if defined(_WIN32)
  (void)l;
  DWORD got = 0, fl = (DWORD)op->op_flags;
  struct sockaddr *sa = (struct sockaddr *)(uintptr_t)am->name;
  INT nl = (INT)am->namelen;
  int r = rd ? WSARecvFrom((SOCKET)op->fd, v, (DWORD)am->iovlen, &got, &fl, sa, sa ? &nl : 0, 0, 0)
             : WSASendTo((SOCKET)op->fd, v, (DWORD)am->iovlen, &got, fl, sa, sa ? nl : 0, 0, 0);
  if (r != 0 && rd && WSAGetLastError() == WSAEMSGSIZE) { /* filled, the rest dropped */
    got = (DWORD)ario__iov_total(am->iov, am->iovlen);
    fl = MSG_PARTIAL;
    r = 0;
  }
  n = r == 0 ? (ssize_t)got : -1;
  if (n >= 0 && rd) {
    if (sa) am->namelen = (uint32_t)nl;
    am->controllen = 0;
    am->flags = (fl & MSG_PARTIAL) ? MSG_TRUNC : 0;
  }
#else
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_name = (void *)(uintptr_t)am->name;
  m.msg_namelen = am->name ? (socklen_t)am->namelen : 0;
  m.msg_iov = v;
  m.msg_iovlen = (int)am->iovlen;
#if !defined(ARIO_LWIP)
  m.msg_control = (void *)(uintptr_t)am->control;
  m.msg_controllen = (socklen_t)am->controllen;
#endif
  int flags = (int)op->op_flags | MSG_DONTWAIT;
  if (rd) flags |= M_CMSG_CLOEXEC;
  do {
    if (SIM_EINTR(l)) n = -1;
    else n = rd ? recvmsg(op->fd, &m, flags) : sendmsg(op->fd, &m, flags | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0 && rd) {
#if !defined(_WIN32) && !defined(ARIO_LWIP) && !defined(MSG_CMSG_CLOEXEC)
    cloexec_received(&m);
#endif
    if (am->name) am->namelen = (uint32_t)m.msg_namelen;
    am->controllen = (uint64_t)m.msg_controllen;
    am->flags = m.msg_flags & ~M_CMSG_CLOEXEC; /* a request, not the message's */
  }
#endif
  return sys_res(n);
}

static int32_t do_accept(ario_loop *l, ario__op *op) {
  uint32_t *lenp = (uint32_t *)op->addr2;
  socklen_t sl = lenp ? (socklen_t)*lenp : 0;
  struct sockaddr *sa = (struct sockaddr *)op->addr;
  int fd;
  do {
    if (SIM_EINTR(l)) {
      fd = -1;
      continue;
    }
#if defined(__linux__)
    fd = accept4(op->fd, sa, sa ? &sl : 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    fd = accept(op->fd, sa, sa ? &sl : 0);
#endif
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
    return neg_errno();
  }
#if !defined(__linux__)
  ario__sys_prepare_fd(fd);
#endif
  if (lenp && sa) *lenp = (uint32_t)sl;
  return fd;
}

/* ACCEPT_MULTI: the connections waiting, each posted as it is accepted;
 * -EAGAIN keeps the op waiting. A full ring leaves the rest in the
 * listener's backlog until the owner reaps; a burst bound keeps a flood
 * from starving the other descriptors of this report. */
#define ACCEPT_BURST 64
static int32_t accept_many(ario_loop *l, ario__op *op) {
  for (unsigned n = 0; n < ACCEPT_BURST && ario__more_room(l); n++) {
    int32_t fd = do_accept(l, op);
    if (fd < 0) return fd; /* -EAGAIN waits on; an error ends the op */
    ario__post_more(l, (ario__idx)(op - l->ops), fd, 0);
  }
  return -EAGAIN;
}

/* RECV_MULTI: the chunks waiting, each into the group's next buffer and
 * posted with it; -EAGAIN keeps the op waiting (nothing to read, or a full
 * completion ring), a burst bound keeps one fast sender from starving the
 * other descriptors. End of stream (0) or an error ends the op, and so
 * does data with no buffer to put it in (-ENOBUFS, as the kernel). */
#define RECV_BURST 16
static int32_t recv_many(ario_loop *l, ario__op *op) {
  int flags = (int)op->op_flags | MSG_DONTWAIT;
  for (unsigned k = 0; k < RECV_BURST && ario__more_room(l); k++) {
    const ario_buf *b = ario__buffers_next(l, op->len);
    char probe; /* no buffer: is there data (-ENOBUFS) or the end (0)? */
    ssize_t n;
    do
      n = SIM_EINTR(l) ? -1 : b ? recv(op->fd, (char *)(uintptr_t)b->addr, b->len, flags)
                                : recv(op->fd, &probe, 1, flags | MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : neg_errno();
    if (n == 0) return 0; /* end of stream: no buffer taken */
    if (!b) return -ENOBUFS;
    ario__buffers_taken(l, op->len);
    ario__post_more(l, (ario__idx)(op - l->ops), (int32_t)n,
                    ARIO_CQE_F_BUFFER | (uint32_t)b->bid << ARIO_CQE_BUFFER_SHIFT);
  }
  return -EAGAIN;
}

static int32_t do_connect(ario_loop *l, ario__op *op, unsigned revents) {
  if (revents) {
    int err = 0;
    socklen_t sl = sizeof err;
    if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, (void *)&err, &sl) < 0) return neg_errno();
#if defined(_WIN32)
    if (err) { /* a Winsock code (WSAECONNREFUSED): errno maps it */
      WSASetLastError(err);
      err = errno;
    }
#endif
    if (err) return -err;
    if (ario__sys_has_peer(op->fd)) return 0; /* no error is not yet success */
  }
  /* The first attempt, or a report that came before the handshake ended (a
   * spurious wake-up, or a report for an earlier op on this fd before this
   * one ever reached connect(2)): connect(2) says where it stands. */
  if (connect(op->fd, (const struct sockaddr *)op->addr, (socklen_t)op->len) == 0)
    return !revents && SIM_EINTR(l) ? -EAGAIN : 0; /* interrupted: it goes on in the background */
  if (errno == EINPROGRESS || errno == EALREADY || errno == EAGAIN || errno == EINTR)
    return -EAGAIN;
  int e = errno;
  if (e == EISCONN && revents && ario__sys_has_peer(op->fd))
    return 0; /* it completed a moment ago (a listener says EISCONN too) */
  return e ? -e : -EINVAL;
}

#if defined(__linux__) && !defined(ARIO_LWIP) && !defined(ARIO_BARE)
#include <poll.h>
/* One non-blocking splice or tee. On EAGAIN it leaves in op->res the side to
 * wait for (the core's events_for): ARIO_POLL_IN on fd_in while that has
 * nothing to read, else ARIO_POLL_OUT on fd_out (a full pipe or send buffer). */
static int32_t do_splice(ario_loop *l, ario__op *op) {
  int fd_in = (int)op->addr;
  unsigned flags = op->op_flags | SPLICE_F_NONBLOCK;
  loff_t off_in = (loff_t)op->addr2, off_out = (loff_t)op->off;
  ssize_t n;
  if (!op->len) /* splice(2) and tee(2) answer 0 before they look at the fds */
    return fcntl(fd_in, F_GETFD) < 0 || fcntl(op->fd, F_GETFD) < 0 ? -EBADF : 0;
  do {
    n = SIM_EINTR(l)              ? -1
        : op->op == ARIO_OP_TEE ? tee(fd_in, op->fd, op->len, flags)
                                : splice(fd_in, op->addr2 == ARIO_OFF_CURRENT ? 0 : &off_in, op->fd,
                                         op->off == ARIO_OFF_CURRENT ? 0 : &off_out, op->len, flags);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) return n > INT32_MAX ? INT32_MAX : (int32_t)n;
  if (errno != EAGAIN) return neg_errno();
  struct pollfd p = {.fd = fd_in, .events = POLLIN};
  op->res = poll(&p, 1, 0) == 1 ? (int32_t)ARIO_POLL_OUT : (int32_t)ARIO_POLL_IN;
  return -EAGAIN;
}
#else
static int32_t do_splice(ario_loop *l, ario__op *op) {
  (void)l, (void)op;
  return -EOPNOTSUPP;
}
#endif

static int32_t attempt(ario_loop *l, ario__op *op, unsigned revents) {
  switch (op->op) {
  case ARIO_OP_READ:
  case ARIO_OP_WRITE: return rw(l, op);
  case ARIO_OP_RECV:
  case ARIO_OP_SEND:
  case ARIO_OP_RECVFROM:
  case ARIO_OP_SENDTO: return transfer(l, op);
  case ARIO_OP_READV:
  case ARIO_OP_WRITEV: return rwv(l, op);
  case ARIO_OP_RECVMSG:
  case ARIO_OP_SENDMSG: return msg(l, op);
  case ARIO_OP_ACCEPT: return do_accept(l, op);
  case ARIO_OP_ACCEPT_MULTI: return accept_many(l, op);
  case ARIO_OP_RECV_MULTI: return recv_many(l, op);
  case ARIO_OP_CONNECT: return do_connect(l, op, revents);
  case ARIO_OP_CLOSE: return close(op->fd) == 0 ? 0 : neg_errno();
  case ARIO_OP_SHUTDOWN: return shutdown(op->fd, (int)op->len) == 0 ? 0 : neg_errno();
  case ARIO_OP_POLL:
    return (int32_t)(revents & (op->events | ARIO_POLL_ERR | ARIO_POLL_HUP));
  case ARIO_OP_SPLICE:
  case ARIO_OP_TEE: return do_splice(l, op);
  case ARIO_OP_OPENAT:
  case ARIO_OP_FSYNC: return -EOPNOTSUPP; /* no file pool in this build (pool.c) */
  case ARIO_OP_SOCKET: return ario_socket(op->fd, (int)(uint32_t)op->off, (int)op->len);
  default: return -EINVAL;
  }
}

int32_t ario__try_io(ario_loop *l, ario__op *op, unsigned revents) {
#if defined(ARIO_HAVE_SIM)
  if (ARIO__IS_SIM(l)) return ario__sim_try_io(l, op, revents, attempt);
#endif
  return attempt(l, op, revents);
}
