/*
 * sock.c: the plain calls of ario.h (sockets, addresses, named constants,
 * errno names) and the platform helpers of sys.h. Every call returns its
 * result or -errno, so a binding never reads errno itself (it is per
 * thread, and Deno's FFI does not preserve it).
 */
#include "ario_internal.h"
#include "sys.h"

#define RET(expr) return (expr) < 0 ? -errno : 0

typedef struct ario__named {
  const char *name;
  int64_t value;
} ario__named;

/* Control-message layout (struct cmsghdr), for bindings that build and
 * parse them: the header's bytes (where data starts), the alignment unit
 * of CMSG_SPACE, and the size of cmsg_len (size_t on Linux, socklen_t on
 * BSDs). Only where recvmsg carries control messages. */
#if defined(CMSG_LEN) && !defined(_WIN32) && !defined(ARIO_LWIP)
#define ARIO_CMSG_HDR CMSG_LEN(0)
#define ARIO_CMSG_ALIGN (CMSG_SPACE(1) - CMSG_SPACE(0))
#define ARIO_CMSG_LEN_BYTES sizeof(((struct cmsghdr *)0)->cmsg_len)
#endif

#include "names.inc"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

ARIO_API int ario_constant(const char *name, int64_t *value) {
  if (!name || !value) return -EINVAL;
  for (size_t i = 0; i < COUNT(ario__constants); i++)
    if (!strcmp(ario__constants[i].name, name)) {
      *value = ario__constants[i].value;
      return 0;
    }
  for (size_t i = 0; i < COUNT(ario__errnos); i++)
    if (!strcmp(ario__errnos[i].name, name)) {
      *value = ario__errnos[i].value;
      return 0;
    }
  return -ENOENT;
}

ARIO_API const char *ario_errno_name(int err) {
  for (size_t i = 0; i < COUNT(ario__errnos); i++)
    if (ario__errnos[i].value == err) return ario__errnos[i].name;
  return "EUNKNOWN";
}

int ario__sys_has_peer(int fd) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer;
  return getpeername(fd, (struct sockaddr *)&peer, &len) == 0;
}

int ario__sys_prepare_fd(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
#if defined(FD_CLOEXEC)
  fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
#if defined(SO_NOSIGPIPE)
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one); /* fails on non-sockets: fine */
#endif
  return 0;
}

#if defined(ARIO_HOST) && !defined(_WIN32)
#define WAKE_PIPE 1
#endif

int ario__sys_wake_open(int *rd, int *wr) {
#if defined(WAKE_PIPE)
  int32_t p[2];
  int rc = ario_pipe(p);
  if (rc < 0) return rc;
  *rd = p[0];
  *wr = p[1];
  return 0;
#else
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return -errno;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(s, (struct sockaddr *)&a, &al) < 0 ||
      connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = -errno;
    close(s);
    return e;
  }
  ario__sys_prepare_fd(s);
  *rd = *wr = s;
  return 0;
#endif
}

void ario__sys_wake_close(int rd, int wr) {
  close(rd);
  if (wr != rd) close(wr);
}

void ario__sys_wake_send(int wr) {
  char c = 1;
#if defined(WAKE_PIPE)
  ssize_t r = write(wr, &c, 1);
#else
  ssize_t r = send(wr, &c, 1, MSG_DONTWAIT);
#endif
  (void)r; /* full: it wakes already */
}

void ario__sys_wake_drain(int rd) {
  char buf[64];
#if defined(WAKE_PIPE)
  while (read(rd, buf, sizeof buf) > 0) {
  }
#else
  while (recv(rd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
#endif
}

int ario__ns_to_ms(int64_t ns) {
  if (ns < 0) return -1;
  int64_t ms = (ns + 999999) / 1000000;
  return ms > 0x7FFFFFFF ? 0x7FFFFFFF : (int)ms;
}

#if defined(ARIO_LWIP) && defined(ARIO_LWIP_CLOCK_US)
/* -DARIO_LWIP_CLOCK_US=esp_timer_get_time: the monotonic clock in us */
int64_t ARIO_LWIP_CLOCK_US(void);
ARIO_API int64_t ario_now(void) { return (int64_t)ARIO_LWIP_CLOCK_US() * 1000; }
#else
ARIO_API int64_t ario_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#endif

ARIO_API int ario_socket(int domain, int type, int protocol) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC) && !defined(ARIO_LWIP)
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  return fd < 0 ? -errno : fd;
#else
  int fd = socket(domain, type, protocol);
  if (fd < 0) return -errno;
  ario__sys_prepare_fd(fd);
  return fd;
#endif
}

#if defined(ARIO_LWIP) || defined(_WIN32)
/* lwIP has no socketpair() and no pipe() (nor Unix sockets): both are a
 * TCP connection over the loopback netif (LWIP_NETIF_LOOPBACK), made with a
 * listener that is closed again: two of lwIP's sockets while it lives (ESP-
 * IDF has ~10), three for a moment. The pair is a byte stream, as a pipe.
 * Windows' pipe() gives CRT descriptors WSAPoll cannot wait on: the same. */
static int loopback_pair(int sv[2]) {
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  int l = -1, c = -1, s = -1, e = 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
      getsockname(l, (struct sockaddr *)&a, &al) < 0 ||
      (c = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      connect(c, (struct sockaddr *)&a, sizeof a) < 0 || (s = accept(l, 0, 0)) < 0)
    e = errno ? -errno : -EIO;
  if (l >= 0) close(l);
  if (e) {
    if (c >= 0) close(c);
    return e;
  }
  ario__sys_prepare_fd(s);
  ario__sys_prepare_fd(c);
  sv[0] = s;
  sv[1] = c;
  return 0;
}
#endif

ARIO_API int ario_socketpair(int domain, int type, int protocol, int32_t fds[2]) {
  int sv[2];
  if (!fds) return -EFAULT;
#if defined(ARIO_LWIP)
  /* AF_INET/SOCK_STREAM only: a loopback TCP pair (loopback_pair) */
  if (domain != AF_INET) return -EAFNOSUPPORT;
  if (type != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP)) return -EOPNOTSUPP;
  int rc = loopback_pair(sv);
  if (rc < 0) return rc;
#else
  if (socketpair(domain, type, protocol, sv) < 0) return -errno;
  ario__sys_prepare_fd(sv[0]);
  ario__sys_prepare_fd(sv[1]);
#endif
  fds[0] = sv[0];
  fds[1] = sv[1];
  return 0;
}

ARIO_API int ario_pipe(int32_t fds[2]) {
  int p[2];
  if (!fds) return -EFAULT;
#if defined(ARIO_LWIP) || defined(_WIN32)
  int rc = loopback_pair(p); /* fds[0] reads what fds[1] writes (and back) */
  if (rc < 0) return rc;
#else
  if (pipe(p) < 0) return -errno;
  ario__sys_prepare_fd(p[0]);
  ario__sys_prepare_fd(p[1]);
#endif
  fds[0] = p[0];
  fds[1] = p[1];
  return 0;
}

ARIO_API int ario_pipe_size(int fd, uint32_t size) {
#if defined(__linux__) && defined(F_SETPIPE_SZ) && !defined(ARIO_LWIP)
  if (size > (uint32_t)INT32_MAX) return -EINVAL;
  int n = fcntl(fd, F_SETPIPE_SZ, (int)size);
  return n < 0 ? -errno : n;
#else
  (void)fd, (void)size;
  return -EOPNOTSUPP;
#endif
}

ARIO_API int ario_pidfd_open(int pid) {
#if defined(__linux__) && defined(ARIO_HOST) && !defined(ARIO_LWIP)
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same on every Linux architecture */
#endif
  if (pid <= 0) return -EINVAL;
  long fd = syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : (int)fd;
#else
  (void)pid;
  return -ENOSYS;
#endif
}

ARIO_API int ario_bind(int fd, const void *addr, uint32_t len) {
  RET(bind(fd, (const struct sockaddr *)addr, (socklen_t)len));
}

ARIO_API int ario_listen(int fd, int backlog) { RET(listen(fd, backlog)); }

ARIO_API int ario_getsockname(int fd, void *addr, uint32_t *len) {
  socklen_t sl = len ? (socklen_t)*len : 0;
  if (getsockname(fd, (struct sockaddr *)addr, &sl) < 0) return -errno;
  if (len) *len = (uint32_t)sl;
  return 0;
}

ARIO_API int ario_getpeername(int fd, void *addr, uint32_t *len) {
  socklen_t sl = len ? (socklen_t)*len : 0;
  if (getpeername(fd, (struct sockaddr *)addr, &sl) < 0) return -errno;
  if (len) *len = (uint32_t)sl;
  return 0;
}

ARIO_API int ario_setsockopt(int fd, int level, int name, const void *val,
                             uint32_t len) {
  RET(setsockopt(fd, level, name, val, (socklen_t)len));
}

ARIO_API int ario_getsockopt(int fd, int level, int name, void *val,
                             uint32_t *len) {
  socklen_t sl = len ? (socklen_t)*len : 0;
  if (getsockopt(fd, level, name, val, &sl) < 0) return -errno;
  if (len) *len = (uint32_t)sl;
  return 0;
}

ARIO_API int ario_close(ario_loop *l, int fd) {
  if (l) {
    ario__drop_fd(l, fd);
    ario__pool_wait_fd(l, fd); /* a file job running on it: never closed under it */
  }
  RET(close(fd));
}

ARIO_API int ario_set_nonblocking(int fd, int on) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  RET(fcntl(fd, F_SETFL, fl));
}

ARIO_API int ario_sockaddr_ip(void *out, uint32_t cap, const char *ip,
                              uint32_t port, uint32_t scope_id) {
  if (!out || !ip || port > 65535) return -EINVAL;
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  memset(&a4, 0, sizeof a4);
  memset(&a6, 0, sizeof a6);
  if (inet_pton(AF_INET, ip, &a4.sin_addr) == 1) {
    if (cap < sizeof a4) return -EINVAL;
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    memcpy(out, &a4, sizeof a4);
    return (int)sizeof a4;
  }
  if (inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1) {
    if (cap < sizeof a6) return -EINVAL;
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    a6.sin6_scope_id = scope_id;
    memcpy(out, &a6, sizeof a6);
    return (int)sizeof a6;
  }
  return -EINVAL;
}

ARIO_API int ario_sockaddr_unix(void *out, uint32_t cap, const uint8_t *path,
                                uint32_t path_len) {
#if defined(ARIO_LWIP)
  (void)out, (void)cap, (void)path, (void)path_len;
  return -EAFNOSUPPORT; /* lwIP has no Unix-domain sockets */
#else
  struct sockaddr_un a;
  if (!out || (!path && path_len)) return -EINVAL;
  if (path_len >= sizeof a.sun_path) return -ENAMETOOLONG;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path, path, path_len);
  /* abstract names (leading NUL) count exactly; paths include their NUL */
  uint32_t len = (uint32_t)offsetof(struct sockaddr_un, sun_path) + path_len +
                 (path_len && path[0] == 0 ? 0 : 1);
  if (cap < len) return -EINVAL;
  memcpy(out, &a, len);
  return (int)len;
#endif
}

ARIO_API int ario_sockaddr_decode(const void *addr, uint32_t len, char *text,
                                  uint32_t cap, uint32_t *port) {
  sa_family_t fam;
  if (!addr || len < sizeof(sa_family_t) || !text || !cap) return -EINVAL;
  memcpy(&fam, (const char *)addr + offsetof(struct sockaddr, sa_family), sizeof fam);
  if (port) *port = 0;
  text[0] = 0;
  if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
    struct sockaddr_in a;
    memcpy(&a, addr, sizeof a);
    if (!inet_ntop(AF_INET, &a.sin_addr, text, cap)) return -ENOSPC;
    if (port) *port = ntohs(a.sin_port);
    return AF_INET;
  }
  if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 a;
    memcpy(&a, addr, sizeof a);
    if (!inet_ntop(AF_INET6, &a.sin6_addr, text, cap)) return -ENOSPC;
    if (port) *port = ntohs(a.sin6_port);
    return AF_INET6;
  }
#if !defined(ARIO_LWIP)
  if (fam == AF_UNIX) {
    uint32_t off = (uint32_t)offsetof(struct sockaddr_un, sun_path);
    uint32_t n = len > off ? len - off : 0;
    if (n && ((const char *)addr)[off] != 0) /* a path: up to its NUL */
      n = (uint32_t)strnlen((const char *)addr + off, n);
    if (n > cap) return -ENOSPC;
    memcpy(text, (const char *)addr + off, n);
    if (port) *port = n; /* the name's length (abstract names hold NULs) */
    return AF_UNIX;
  }
#endif
  if (port) *port = (uint32_t)fam; /* a family without a text form: its number */
  return -EAFNOSUPPORT;
}

#if defined(__linux__) && !defined(ARIO_LWIP)
#define HAVE_PACKET 1
#endif

ARIO_API int ario_sockaddr_link(void *out, uint32_t cap, const ario_link_addr *la) {
  if (!out || !la || la->halen > sizeof la->addr || la->reserved) return -EINVAL;
#if defined(HAVE_PACKET)
  struct sockaddr_ll a;
  if (cap < sizeof a) return -EINVAL;
  memset(&a, 0, sizeof a);
  a.sll_family = AF_PACKET;
  a.sll_protocol = htons(la->protocol);
  a.sll_ifindex = la->ifindex;
  a.sll_hatype = la->hatype;
  a.sll_pkttype = la->pkttype;
  a.sll_halen = la->halen;
  memcpy(a.sll_addr, la->addr, la->halen);
  memcpy(out, &a, sizeof a);
  return (int)sizeof a;
#else
  (void)cap;
  return -EAFNOSUPPORT;
#endif
}

ARIO_API int ario_sockaddr_link_decode(const void *addr, uint32_t len, ario_link_addr *la) {
  if (!addr || !la || len < sizeof(sa_family_t)) return -EINVAL;
#if defined(HAVE_PACKET)
  struct sockaddr_ll a;
  memset(&a, 0, sizeof a);
  memcpy(&a, addr, len < sizeof a ? len : sizeof a);
  if (a.sll_family != AF_PACKET) return -EAFNOSUPPORT;
  if (len < (uint32_t)offsetof(struct sockaddr_ll, sll_addr)) return -EINVAL;
  memset(la, 0, sizeof *la);
  la->ifindex = a.sll_ifindex;
  la->protocol = ntohs(a.sll_protocol);
  la->hatype = a.sll_hatype;
  la->pkttype = a.sll_pkttype;
  la->halen = a.sll_halen > sizeof la->addr ? (uint8_t)sizeof la->addr : a.sll_halen;
  memcpy(la->addr, a.sll_addr, la->halen);
  return AF_PACKET;
#else
  return -EAFNOSUPPORT;
#endif
}

/* ---------------------------------------------------------- resolving -- */
#if defined(ARIO_HOST)
#if !defined(_WIN32)
#include <netdb.h>
#endif

/* getaddrinfo's EAI_* codes as the errno values the binding reports. */
static int eai_errno(int rc) {
  switch (rc) {
  case EAI_NONAME:
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
  case EAI_NODATA:
#endif
    return -ENOENT;
  case EAI_AGAIN: return -EAGAIN;
  case EAI_FAMILY: return -EAFNOSUPPORT;
  case EAI_MEMORY: return -ENOMEM;
#if defined(EAI_SYSTEM)
  case EAI_SYSTEM: return errno ? -errno : -EIO;
#endif
  default: return -EIO;
  }
}

ARIO_API int ario_resolve(const char *host, int family, uint8_t *out, uint32_t cap) {
  if (!host || !*host || (!out && cap)) return -EINVAL;
  if (family != 0 && family != AF_INET && family != AF_INET6) return -EAFNOSUPPORT;
  struct addrinfo hints, *res = 0;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family ? family : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM; /* one entry per address, not one per socket type */
  hints.ai_flags = AI_ADDRCONFIG;
  int rc = getaddrinfo(host, 0, &hints, &res);
  if (rc != 0) return eai_errno(rc);
  int n = 0;
  for (struct addrinfo *ai = res; ai && (uint32_t)(n + 1) * ARIO_RESOLVE_RECORD <= cap;
       ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
        ai->ai_addrlen > ARIO_RESOLVE_RECORD - 4)
      continue;
    uint8_t *rec = out + (size_t)n * ARIO_RESOLVE_RECORD;
    uint32_t len = (uint32_t)ai->ai_addrlen;
    memset(rec, 0, ARIO_RESOLVE_RECORD);
    memcpy(rec, &len, 4);
    memcpy(rec + 4, ai->ai_addr, len);
    n++;
  }
  freeaddrinfo(res);
  return n;
}
#endif
