/*
 * validate.c: what each op reads of its submission entry, and the checks an
 * entry passes before it takes a slot (ario.h's op table and the Validation
 * paragraph of ario_submit). One home for the per-op rules, so an op is
 * added here, in ops.c (readiness backends) and in backend/io_uring.c.
 */
#include "ario_internal.h"

static int needs_fd(uint8_t op) {
  return op != ARIO_OP_NOP && op != ARIO_OP_TIMEOUT &&
         op != ARIO_OP_LINK_TIMEOUT && op != ARIO_OP_CANCEL &&
         op != ARIO_OP_OPENAT && /* a directory fd, AT_FDCWD, or ignored: openat(2) judges */
         op != ARIO_OP_SOCKET;  /* its fd is the domain */
}

static int needs_buffer(uint8_t op) {
  return op == ARIO_OP_READ || op == ARIO_OP_WRITE || op == ARIO_OP_RECV ||
         op == ARIO_OP_SEND || op == ARIO_OP_RECVFROM || op == ARIO_OP_SENDTO;
}

/* Fields an op reads beyond op, flags, fd and user_data (ario.h's table);
 * every other field must be 0, or the entry fails with -EINVAL (as the
 * kernel's io_uring does for most ops), so a mistake is never silently
 * ignored. The fd of an op that takes none is ignored (-1 by convention). */
#define U_ADDR 0x01u
#define U_ADDR2 0x02u
#define U_LEN 0x04u
#define U_OFF 0x08u
#define U_OPF 0x10u
static const uint8_t op_uses[ARIO_OP_COUNT_] = {
    [ARIO_OP_NOP] = 0,
    [ARIO_OP_READ] = U_ADDR | U_LEN | U_OFF,
    [ARIO_OP_WRITE] = U_ADDR | U_LEN | U_OFF,
    [ARIO_OP_RECV] = U_ADDR | U_LEN | U_OPF,
    [ARIO_OP_SEND] = U_ADDR | U_LEN | U_OPF,
    [ARIO_OP_RECVFROM] = U_ADDR | U_LEN | U_ADDR2 | U_OFF | U_OPF,
    [ARIO_OP_SENDTO] = U_ADDR | U_LEN | U_ADDR2 | U_OFF | U_OPF,
    [ARIO_OP_ACCEPT] = U_ADDR | U_ADDR2,
    [ARIO_OP_CONNECT] = U_ADDR | U_LEN,
    [ARIO_OP_CLOSE] = 0,
    [ARIO_OP_SHUTDOWN] = U_LEN,
    [ARIO_OP_POLL] = U_OPF,
    [ARIO_OP_TIMEOUT] = U_OFF | U_LEN | U_OPF,
    [ARIO_OP_LINK_TIMEOUT] = U_OFF | U_OPF,
    [ARIO_OP_CANCEL] = U_ADDR | U_OPF, /* addr only when by user_data */
    [ARIO_OP_SPLICE] = U_ADDR | U_ADDR2 | U_LEN | U_OFF | U_OPF,
    [ARIO_OP_SOCKET] = U_OFF | U_LEN,  /* fd=domain, off=type, len=protocol */
    [ARIO_OP_READV] = U_ADDR | U_LEN | U_OFF,
    [ARIO_OP_WRITEV] = U_ADDR | U_LEN | U_OFF,
    [ARIO_OP_RECVMSG] = U_ADDR | U_OPF,
    [ARIO_OP_SENDMSG] = U_ADDR | U_OPF,
    [ARIO_OP_OPENAT] = U_ADDR | U_LEN | U_OPF,
    [ARIO_OP_FSYNC] = U_OPF,
    [ARIO_OP_ACCEPT_MULTI] = 0,
    [ARIO_OP_TEE] = U_ADDR | U_LEN | U_OPF, /* no offsets: io_uring's tee prep refuses them */
    [ARIO_OP_RECV_MULTI] = U_LEN | U_OPF, /* len=buffer group */
};

#define SOCKADDR_MAX 128u /* sizeof(struct sockaddr_storage) */

/* MSG_* flags RECV/SEND/RECVFROM/SENDTO accept (the platform's values):
 * the ones that make sense for one buffer and no control data. Others
 * (MSG_ERRQUEUE, MSG_ZEROCOPY, ...) would report "readable" and then
 * never succeed on a readiness backend: -EINVAL. */
#if defined(MSG_OOB)
#define M_OOB MSG_OOB
#else
#define M_OOB 0
#endif
#if defined(MSG_PEEK)
#define M_PEEK MSG_PEEK
#else
#define M_PEEK 0
#endif
#if defined(MSG_DONTROUTE)
#define M_DONTROUTE MSG_DONTROUTE
#else
#define M_DONTROUTE 0
#endif
#if defined(MSG_DONTWAIT)
#define M_DONTWAIT MSG_DONTWAIT
#else
#define M_DONTWAIT 0
#endif
#if defined(MSG_WAITALL)
#define M_WAITALL MSG_WAITALL
#else
#define M_WAITALL 0
#endif
#if defined(MSG_TRUNC)
#define M_TRUNC MSG_TRUNC
#else
#define M_TRUNC 0
#endif
#if defined(MSG_NOSIGNAL)
#define M_NOSIGNAL MSG_NOSIGNAL
#else
#define M_NOSIGNAL 0
#endif
#if defined(MSG_MORE)
#define M_MORE MSG_MORE
#else
#define M_MORE 0
#endif
#if defined(MSG_EOR)
#define M_EOR MSG_EOR
#else
#define M_EOR 0
#endif
#if defined(MSG_CONFIRM)
#define M_CONFIRM MSG_CONFIRM
#else
#define M_CONFIRM 0
#endif
#if defined(MSG_CMSG_CLOEXEC)
#define M_CMSG_CLOEXEC MSG_CMSG_CLOEXEC
#else
#define M_CMSG_CLOEXEC 0
#endif
#define MSG_KNOWN                                                                   \
  ((uint32_t)(M_OOB | M_PEEK | M_DONTROUTE | M_DONTWAIT | M_WAITALL | M_TRUNC |    \
              M_NOSIGNAL | M_MORE | M_EOR | M_CONFIRM))
/* RECVMSG/SENDMSG: one call each, so no MSG_WAITALL (control messages and
 * msg_flags describe one receive; a continued SENDMSG would have to leave
 * its SCM_RIGHTS out); RECVMSG may say MSG_CMSG_CLOEXEC, which it implies. */
#define MSG_ONE_CALL ((uint32_t)(MSG_KNOWN & ~(uint32_t)M_WAITALL))

#define IOV_OK(p) (sizeof(uintptr_t) >= 8 || !((p) >> 32)) /* within a 32-bit target's reach */

/* An iovec array of n entries: -EINVAL beyond ARIO_IOV_MAX or INT32_MAX
 * bytes in all (res could not say it), -EFAULT for a missing array or base. */
static int32_t check_iov(uint64_t iov, uint64_t n) {
  if (n > ARIO_IOV_MAX) return -EINVAL;
  if (!n) return 0;
  if (!iov) return -EFAULT;
  if (!IOV_OK(iov)) return -EFAULT;
  const ario_iovec *v = (const ario_iovec *)(uintptr_t)iov;
  uint64_t total = 0;
  for (uint64_t k = 0; k < n; k++) {
    if (v[k].len > (uint64_t)INT32_MAX) return -EINVAL;
    total += v[k].len;
    if (total > (uint64_t)INT32_MAX) return -EINVAL;
    if (v[k].len && (!v[k].base || !IOV_OK(v[k].base))) return -EFAULT;
  }
  return 0;
}

static int32_t check_msghdr(const ario_sqe *e) {
  if (!e->addr) return -EFAULT;
  const ario_msghdr *m = (const ario_msghdr *)(uintptr_t)e->addr;
  int32_t rc = check_iov(m->iov, m->iovlen);
  if (rc) return rc;
  if (!IOV_OK(m->name) || !IOV_OK(m->control)) return -EFAULT;
  if (m->controllen > (uint64_t)INT32_MAX) return -EINVAL;
  if (m->controllen && !m->control) return -EFAULT;
  return 0;
}

uint64_t ario__iov_total(uint64_t iov, uint64_t n) {
  const ario_iovec *v = (const ario_iovec *)(uintptr_t)iov;
  uint64_t total = 0;
  for (uint64_t k = 0; k < n && k < ARIO_IOV_MAX; k++) total += v[k].len;
  return total;
}

int32_t ario__validate(const ario_sqe *e, const ario_sqe *prev) {
  if (e->op >= ARIO_OP_COUNT_) return -EINVAL;
  if (e->flags & ~(ARIO_SQE_LINK | ARIO_SQE_HARDLINK)) return -EINVAL;
  if (e->reserved) return -EINVAL;
  unsigned uses = op_uses[e->op];
  if (e->op == ARIO_OP_CANCEL && (e->op_flags & (ARIO_CANCEL_FD | ARIO_CANCEL_ANY)))
    uses &= ~U_ADDR; /* by fd or any: no key */
  if ((e->addr && !(uses & U_ADDR)) || (e->addr2 && !(uses & U_ADDR2)) ||
      (e->len && !(uses & U_LEN)) || (e->off && !(uses & U_OFF)) ||
      (e->op_flags && !(uses & U_OPF)))
    return -EINVAL;
  if (needs_fd(e->op) && e->fd < 0) return -EBADF;
#if defined(ARIO_FD_MAX)
  if (needs_fd(e->op) && e->fd > ARIO_FD_MAX) return -EBADF;
#endif
  if (needs_buffer(e->op)) {
    if (e->len > (uint32_t)INT32_MAX) return -EINVAL; /* res could not say it */
    if (e->len && !e->addr) return -EFAULT;
  }
  if (sizeof(uintptr_t) < 8 && ARIO__TWO_FDS(e->op)) return -EOPNOTSUPP; /* Linux hosts */
  if (sizeof(uintptr_t) < 8 && (e->addr >> 32 || e->addr2 >> 32 ||
                                (e->op == ARIO_OP_RECVFROM && e->off >> 32)))
    return -EFAULT; /* addresses beyond a 32-bit target's reach */
  switch (e->op) {
  case ARIO_OP_RECV:
  case ARIO_OP_SEND:
  case ARIO_OP_RECVFROM:
    if (e->op_flags & ~MSG_KNOWN) return -EINVAL;
    break;
  case ARIO_OP_READ:
  case ARIO_OP_WRITE:
    /* a file offset, or the file position; nothing the kernel would see
     * as a negative offset */
    if (e->off > (uint64_t)INT64_MAX && e->off != ARIO_OFF_CURRENT) return -EINVAL;
    break;
  case ARIO_OP_READV:
  case ARIO_OP_WRITEV:
    if (e->off > (uint64_t)INT64_MAX && e->off != ARIO_OFF_CURRENT) return -EINVAL;
    return check_iov(e->addr, e->len);
  case ARIO_OP_RECVMSG:
  case ARIO_OP_SENDMSG:
    if (e->op_flags & ~(MSG_ONE_CALL | (e->op == ARIO_OP_RECVMSG ? M_CMSG_CLOEXEC : 0u)))
      return -EINVAL;
    return check_msghdr(e);
  case ARIO_OP_SENDTO:
    if (e->op_flags & ~MSG_KNOWN) return -EINVAL;
    if (!e->addr2) return -EFAULT;
    if (e->off > SOCKADDR_MAX) return -EINVAL;
    break;
  case ARIO_OP_ACCEPT:
    if (e->addr && !e->addr2) return -EFAULT; /* the peer would be lost */
    break;
  case ARIO_OP_RECV_MULTI: /* one call per chunk; a peek would take the same bytes again */
    if (e->op_flags & ~(MSG_ONE_CALL & ~(uint32_t)M_PEEK)) return -EINVAL;
    if (e->len >= ARIO_BUFFER_GROUPS) return -EINVAL;
    /* fall through */
  case ARIO_OP_ACCEPT_MULTI: /* no one result a chain could follow (it may end one) */
    if (e->flags & (ARIO_SQE_LINK | ARIO_SQE_HARDLINK)) return -EINVAL;
    break;
  case ARIO_OP_CONNECT:
    if (!e->addr) return -EFAULT;
    if (e->len > SOCKADDR_MAX) return -EINVAL;
    break;
  case ARIO_OP_SHUTDOWN: if (e->len > 2) return -EINVAL; break;
  case ARIO_OP_SPLICE:
  case ARIO_OP_TEE:
    if (e->op_flags & ~(uint32_t)(ARIO_SPLICE_F_MOVE | ARIO_SPLICE_F_NONBLOCK |
                                  ARIO_SPLICE_F_MORE))
      return -EINVAL; /* SPLICE_F_FD_IN_FIXED: no registered files here */
    if (e->addr > (uint64_t)INT32_MAX) return -EBADF; /* fd_in */
    if ((e->addr2 > (uint64_t)INT64_MAX && e->addr2 != ARIO_OFF_CURRENT) ||
        (e->off > (uint64_t)INT64_MAX && e->off != ARIO_OFF_CURRENT))
      return -EINVAL; /* a negative offset */
    break;
  case ARIO_OP_POLL:
    if (e->op_flags & ~(uint32_t)(ARIO_POLL_IN | ARIO_POLL_PRI | ARIO_POLL_OUT |
                                  ARIO_POLL_ERR | ARIO_POLL_HUP))
      return -EINVAL;
    break;
  case ARIO_OP_TIMEOUT:
  case ARIO_OP_LINK_TIMEOUT:
    if (e->op_flags & ~ARIO_TIMEOUT_ABS) return -EINVAL;
    if (e->op == ARIO_OP_LINK_TIMEOUT && (!prev || prev->op == ARIO_OP_LINK_TIMEOUT))
      return -EINVAL; /* it bounds the op before it */
    /* above INT64_MAX ns: -EINVAL; a relative time that passes INT64_MAX
     * when added to now saturates (a deadline never reached) */
    if (e->off > (uint64_t)INT64_MAX) return -EINVAL;
    break;
  case ARIO_OP_CANCEL:
    if (e->op_flags & ~(uint32_t)(ARIO_CANCEL_ALL | ARIO_CANCEL_FD | ARIO_CANCEL_ANY))
      return -EINVAL;
    if ((e->op_flags & ARIO_CANCEL_FD) && (e->op_flags & ARIO_CANCEL_ANY))
      return -EINVAL; /* as the kernel: one key */
    if ((e->op_flags & ARIO_CANCEL_FD) && e->fd < 0) return -EBADF;
    break;
  case ARIO_OP_OPENAT:
    /* the kernel reads the path when it takes the entry (getname) */
    if (!e->addr) return -EFAULT;
    if (!*(const char *)(uintptr_t)e->addr) return -ENOENT;
    break;
  case ARIO_OP_FSYNC:
    if (e->op_flags & ~ARIO_FSYNC_DATASYNC) return -EINVAL;
    break;
  case ARIO_OP_SOCKET:
    /* the type is an int; the kernel would silently drop the upper half.
     * The rest (domain, type, protocol) is for socket(2) to judge. */
    if (e->off > UINT32_MAX) return -EINVAL;
#if defined(__linux__) && !defined(ARIO_LWIP) && defined(SOCK_NONBLOCK)
    /* flag bits of the type (above SOCK_TYPE_MASK, 0xf) other than these
     * two: io_uring refuses them before the op runs, so a hard link does
     * not save its chain */
    if ((uint32_t)e->off & ~0xfu & ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
#endif
    break;
  default: break;
  }
  return 0;
}

