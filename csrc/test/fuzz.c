/* fuzz.c: seeded random batches through ario_submit/ario_reap on the
 * backend named by ARIO_BACKEND, under ASan+UBSan in CI.
 *
 * Every field of every entry is random (op, flags, reserved, fd, addr,
 * addr2, len, off, op_flags, user_data-named cancels, links, linked
 * timeouts), constrained only where a wrong value would make the *kernel*
 * write out of bounds (addresses point into a scratch arena or are NULL,
 * and a length with a valid address stays inside it; RECVFROM's and
 * ACCEPT's length pointers are valid or NULL): those are the caller's
 * contract, not something a library can check.
 *
 * Invariants, checked after every reap:
 *   - every consumed entry completes exactly once, with a known user_data;
 *   - ario_inflight() == consumed - completed; nothing in flight at the
 *     end of each epoch;
 * and a liveness oracle at the end of each epoch (1..3 batches on fresh
 * fds): every fd is made ready (peers closed through ario_close, clients
 * connected to the listener), then within a bound every op whose condition
 * holds must complete (timers by their deadline); only ops whose condition
 * can never hold may remain (exempt(), below), and CANCEL ANY|ALL plus
 * ario_close must then end them.
 *
 * ARIO_FUZZ_SEED=n replays one run; ARIO_FUZZ_ITERS=n epochs (default 1500,
 * a few seconds); the seed is printed on failure. scripts/fuzz.sh loops
 * over seeds for long runs.
 */
#include "test.h"
#include <fcntl.h>
#include <sys/resource.h>

static uint64_t rng;
static uint64_t next64(void) {
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint32_t rnd(uint32_t n) { return n ? (uint32_t)(next64() % n) : 0; }
static int chance(uint32_t pct) { return rnd(100) < pct; }

static uint64_t seed;
static unsigned epoch;
static const char *backend_name;
#define FAIL(...)                                                                  \
  do {                                                                             \
    fprintf(stderr, "fuzz FAIL (ARIO_BACKEND=%s ARIO_FUZZ_SEED=%llu, epoch %u): ", \
            backend_name, (unsigned long long)seed, epoch);                        \
    fprintf(stderr, __VA_ARGS__);                                                  \
    fprintf(stderr, "\n");                                                         \
    exit(T_EXIT_FAIL);                                                             \
  } while (0)

/* ------------------------------------------------------------ the fds -- */

#define NP 2 /* pipes */
#define NS 2 /* stream socketpairs */
#define NCLOSED 3
#define MAXFD 24
/* ARIO_FUZZ_SKIP_OPS=a,b,...: ops generated as NOP instead (qemu-user 7.2
 * aborts the guest, TCG "cpu == current_cpu", on the malformed control
 * data the fuzzer hands SENDMSG: scripts/test-foreign.sh skips 19 there). */
static uint64_t skip_ops;

enum kind { K_PIPE_RD, K_PIPE_WR, K_SOCK, K_SOCK_PEER, K_LISTEN, K_CLOSED, K_SCRATCH, K_RETIRED, K_FILE };
static int fds[MAXFD], kinds[MAXFD], nfds;
static int scratch_wr[64], nscratch; /* write ends of pipes CLOSE ops take */
static int clients[256], nclients;
static struct sockaddr_in listen_addr;
static struct sockaddr_in addr_copy; /* what ops see (they may write it) */
static const int closed_numbers[NCLOSED] = {700, 1500, 3000};

static void add_fd(int fd, int kind) {
  CHECK(nfds < MAXFD);
  fds[nfds] = fd;
  kinds[nfds++] = kind;
}

static int kind_of(int fd) {
  for (int i = 0; i < nfds; i++)
    if (fds[i] == fd) return kinds[i];
  return K_CLOSED;
}

/* A regular file (READ/WRITE/FSYNC run on the file pool of readiness
 * backends), and the paths OPENAT names: none it could create a file at. */
static char file_path[64];
static const char *paths[] = {file_path, "/nonexistent-ario/x", "", "/tmp", "/dev/null"};
#define NPATHS (sizeof paths / sizeof paths[0])
static void remove_file(void) { unlink(file_path); }
static int is_path(uint64_t addr) {
  for (unsigned k = 0; k < NPATHS; k++)
    if (addr == (uint64_t)(uintptr_t)paths[k]) return 1;
  return 0;
}

static void open_fds(void) {
  nfds = 0;
  if (!file_path[0]) {
    snprintf(file_path, sizeof file_path, "/tmp/ario-fuzz-%d", (int)getpid());
    atexit(remove_file);
  }
  int f = open(file_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  CHECK(f >= 0);
  add_fd(f, K_FILE);
  for (int i = 0; i < NP; i++) {
    int p[2];
    CHECK(ario_pipe(p) == 0);
    add_fd(p[0], K_PIPE_RD);
    add_fd(p[1], K_PIPE_WR);
  }
  for (int i = 0; i < NS; i++) {
    int s[2];
    CHECK(ario_socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
    add_fd(s[0], K_SOCK);
    add_fd(s[1], K_SOCK_PEER);
  }
  int ls = ario_socket(AF_INET, SOCK_STREAM, 0);
  socklen_t al = sizeof listen_addr;
  memset(&listen_addr, 0, sizeof listen_addr);
  listen_addr.sin_family = AF_INET;
  listen_addr.sin_addr.s_addr = htonl(0x7f000001);
  CHECK(ls >= 0 && bind(ls, (void *)&listen_addr, sizeof listen_addr) == 0 && listen(ls, 512) == 0);
  CHECK(getsockname(ls, (void *)&listen_addr, &al) == 0);
  add_fd(ls, K_LISTEN);
  for (int i = 0; i < NCLOSED; i++) {
    CHECK(fcntl(closed_numbers[i], F_GETFD) < 0);
    add_fd(closed_numbers[i], K_CLOSED);
  }
  nscratch = 0;
}

static void connect_clients(int n) {
  for (int i = 0; i < n && nclients < 256; i++) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(c >= 0);
    struct linger lg = {1, 0}; /* close with RST: no TIME_WAIT piles up */
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    int r = connect(c, (void *)&listen_addr, sizeof listen_addr);
    if (r < 0 && errno != EINPROGRESS) FAIL("connect to the listener: errno %d", errno);
    clients[nclients++] = c;
  }
}

/* ------------------------------------------------------- op records -- */

#define MAXOPS 512
typedef struct rec {
  ario_sqe e;
  int consumed, done;
  int32_t res;
  int prev;         /* index of the op before it in its chain, or -1 */
  int far;          /* a timer whose deadline is far away */
} rec;
static rec ops[MAXOPS];
static int nops;
static uint64_t consumed_total, completed_total;

#define UD(i) (((uint64_t)epoch << 20) | (uint64_t)(i) | (1ull << 63))

/* Scratch memory every address points into. */
#define ARENA 4096
static _Alignas(16) unsigned char arena[ARENA];
#define SA_SLOTS 8
static _Alignas(16) unsigned char sa_out[SA_SLOTS][128]; /* sockaddr out */
static uint32_t sa_len[SA_SLOTS];                        /* its length in/out */

static uint64_t arena_addr(uint32_t *len_cap) {
  uint32_t at = rnd(ARENA);
  *len_cap = ARENA - at;
  return (uint64_t)(uintptr_t)(arena + at);
}

/* Bytes from addr to the end of the region it points into, 0 if none. */
static uint32_t region_room(uint64_t addr) {
  const unsigned char *p = (const unsigned char *)(uintptr_t)addr;
  if (p >= arena && p < arena + ARENA) return (uint32_t)(arena + ARENA - p);
  for (int k = 0; k < SA_SLOTS; k++)
    if (p >= sa_out[k] && p < sa_out[k] + 128) return (uint32_t)(sa_out[k] + 128 - p);
  if (p == (const unsigned char *)&addr_copy) return (uint32_t)sizeof addr_copy;
  return 0;
}

/* READV/WRITEV iovec arrays and RECVMSG/SENDMSG msghdrs: every entry
 * valid at all times (bases in the arena, names in sa_out, receive control
 * room of its own; a send's control is zeros, which the kernel refuses),
 * refreshed as entries are made while ops may be reading them. */
static ario_iovec vec_iov[ARIO_IOV_MAX + 2];
static ario_msghdr vec_msg[4]; /* 0, 1: RECVMSG; 2, 3: SENDMSG */
static _Alignas(16) unsigned char ctl_in[2][256];
static _Alignas(16) const unsigned char ctl_zero[64];

static uint64_t vec_array(void) {
  for (unsigned k = 0; k < ARIO_IOV_MAX + 2; k++) {
    uint32_t cap;
    uint64_t a = arena_addr(&cap);
    vec_iov[k] = (ario_iovec){chance(97) ? a : 0, rnd(cap < 200 ? cap + 1 : 200)};
  }
  return (uint64_t)(uintptr_t)vec_iov;
}

static uint64_t vec_msghdr(int send) {
  uint32_t k = rnd(2) + (send ? 2u : 0u);
  ario_msghdr *m = &vec_msg[k];
  memset(m, 0, sizeof *m);
  m->iov = chance(95) ? vec_array() : 0;
  m->iovlen = chance(95) ? rnd(4) : rnd(ARIO_IOV_MAX + 3);
  if (chance(50)) {
    m->name = (uint64_t)(uintptr_t)sa_out[rnd(SA_SLOTS)];
    m->namelen = send ? (chance(80) ? 16 : rnd(140)) : rnd(129);
  }
  if (chance(40)) {
    m->control = (uint64_t)(uintptr_t)(send ? ctl_zero : ctl_in[k]);
    m->controllen = send ? rnd(65) : rnd(257);
  }
  return (uint64_t)(uintptr_t)m;
}

static const uint32_t msg_flags[] = {0, 0, 0, MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_TRUNC};

/* RECV_MULTI's provided buffers: group 0, registered for the whole run;
 * group 1 never is. Each buffer is delivered at most once until given
 * back (some at once, some at the end of the batch), and the group must
 * unregister (no user left) at the end of every epoch. */
#define NBUFS 16u
#define BUFLEN 96u
static ario_buf bufring[NBUFS] __attribute__((aligned(4096)));
static unsigned char bufmem[NBUFS][BUFLEN];
static int held[NBUFS], later[NBUFS], nlater;
static unsigned long long chunks; /* delivered, for the verbose report */
static ario_loop *l;

static void give_buf(uint32_t bid) {
  held[bid] = 0;
  if (ario_buffers_give(l, 0, (uint64_t)(uintptr_t)bufmem[bid], 1 + bid * 5, bid) != 0)
    FAIL("ario_buffers_give %u", bid);
}

static void give_later(void) {
  while (nlater) give_buf((uint32_t)later[--nlater]);
}

static void register_bufs(void) {
  if (ario_buffers_register(l, 0, bufring, NBUFS) != 0) FAIL("ario_buffers_register");
  for (uint32_t k = 0; k < NBUFS; k++) give_buf(k);
}

static int pick_fd(void) { return fds[rnd((uint32_t)nfds)]; }

/* One random entry. Fields are chosen to mostly make sense for the op (so
 * ops run), then any field may be overwritten by noise. */
static void random_entry(ario_sqe *e, int idx) {
  uint32_t cap;
  memset(e, 0, sizeof *e);
  e->op = (uint8_t)(chance(4) ? rnd(256) : rnd(ARIO_OP_COUNT_));
  if (e->op < 64 && (skip_ops >> e->op) & 1) e->op = ARIO_OP_NOP;
  e->fd = pick_fd();
  e->user_data = UD(idx);
  switch (e->op) {
  case ARIO_OP_READ:
  case ARIO_OP_WRITE:
    e->addr = arena_addr(&cap);
    e->len = rnd(cap < 600 ? cap + 1 : 600);
    e->off = chance(85) ? ARIO_OFF_CURRENT : chance(50) ? rnd(4096) : next64();
    break;
  case ARIO_OP_RECV:
  case ARIO_OP_SEND:
    e->addr = arena_addr(&cap);
    e->len = rnd(cap < 600 ? cap + 1 : 600);
    e->op_flags = msg_flags[rnd(8)];
    break;
  case ARIO_OP_RECVFROM:
  case ARIO_OP_SENDTO: {
    uint32_t k = rnd(SA_SLOTS);
    e->addr = arena_addr(&cap);
    e->len = rnd(cap < 600 ? cap + 1 : 600);
    e->op_flags = msg_flags[rnd(8)];
    e->addr2 = chance(80) ? (uint64_t)(uintptr_t)sa_out[k] : 0;
    if (e->op == ARIO_OP_RECVFROM) {
      sa_len[k] = rnd(129);
      e->off = chance(80) ? (uint64_t)(uintptr_t)&sa_len[k] : 0;
    } else {
      e->off = rnd(160);
    }
    break;
  }
  case ARIO_OP_READV:
  case ARIO_OP_WRITEV:
    e->addr = chance(97) ? vec_array() : 0;
    e->len = chance(90) ? rnd(6) : rnd(ARIO_IOV_MAX + 3);
    e->off = chance(85) ? ARIO_OFF_CURRENT : chance(50) ? rnd(4096) : next64();
    break;
  case ARIO_OP_RECVMSG:
  case ARIO_OP_SENDMSG:
    e->addr = chance(97) ? vec_msghdr(e->op == ARIO_OP_SENDMSG) : 0;
    e->op_flags = chance(10) ? (uint32_t)MSG_CMSG_CLOEXEC : msg_flags[rnd(8)];
    break;
  case ARIO_OP_ACCEPT:
    if (chance(60)) {
      uint32_t k = rnd(SA_SLOTS);
      sa_len[k] = rnd(129);
      e->addr = (uint64_t)(uintptr_t)sa_out[k];
      e->addr2 = chance(95) ? (uint64_t)(uintptr_t)&sa_len[k] : 0;
    }
    break;
  case ARIO_OP_CONNECT:
    e->addr = chance(50) ? (uint64_t)(uintptr_t)&addr_copy : chance(90) ? (uint64_t)(uintptr_t)sa_out[rnd(SA_SLOTS)] : 0;
    e->len = chance(80) ? (uint32_t)sizeof addr_copy : rnd(140);
    break;
  case ARIO_OP_CLOSE: {
    /* only on a fresh pipe: the harness's own fds stay */
    int p[2];
    CHECK(ario_pipe(p) == 0);
    if (nscratch < 64 && nfds < MAXFD) {
      /* numbered above what socket()/accept() hand out, so the number is
       * not reused within the epoch once the CLOSE freed it */
      int hi = fcntl(p[0], F_DUPFD_CLOEXEC, 200 + nscratch);
      CHECK(hi >= 200);
      close(p[0]);
      scratch_wr[nscratch++] = p[1];
      add_fd(hi, K_SCRATCH);
      e->fd = hi;
    } else {
      close(p[0]);
      close(p[1]);
      e->op = ARIO_OP_NOP;
      e->fd = -1;
    }
    break;
  }
  case ARIO_OP_OPENAT:
    if (chance(70)) e->fd = AT_FDCWD;
    e->addr = (uint64_t)(uintptr_t)paths[rnd(NPATHS)];
    e->op_flags = (uint32_t)((chance(60) ? O_RDONLY : O_RDWR) | (chance(20) ? O_DIRECTORY : 0) |
                             (chance(10) ? O_NONBLOCK : 0));
    e->len = chance(90) ? 0 : rnd(0x10000);
    break;
  case ARIO_OP_FSYNC: e->op_flags = chance(50) ? ARIO_FSYNC_DATASYNC : 0; break;
  case ARIO_OP_RECV_MULTI:
    e->len = chance(85) ? 0 : chance(60) ? 1 : rnd(ARIO_BUFFER_GROUPS + 2);
    e->op_flags = chance(70) ? 0 : msg_flags[rnd(8)];
    break;
  case ARIO_OP_SHUTDOWN: e->len = rnd(4); break;
  case ARIO_OP_SOCKET: { /* its fd is closed as it arrives (on_cqe) */
    static const int dom[] = {AF_INET, AF_INET6, AF_UNIX, AF_PACKET, AF_UNSPEC};
    static const int type[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, 12};
    static const int proto[] = {0, 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
    e->fd = chance(90) ? dom[rnd(5)] : (int32_t)next64();
    e->off = (uint32_t)type[rnd(5)];
    if (chance(20)) e->off |= chance(50) ? (uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC) : 1u << rnd(32);
    if (chance(3)) e->off = next64();
    e->len = chance(90) ? (uint32_t)proto[rnd(5)] : (uint32_t)next64();
    break;
  }
  case ARIO_OP_POLL: e->op_flags = chance(90) ? rnd(32) : (uint32_t)next64(); break;
  case ARIO_OP_SPLICE: /* addr is fd_in */
    e->addr = (uint64_t)(uint32_t)pick_fd();
    e->addr2 = chance(90) ? ARIO_OFF_CURRENT : rnd(64);
    e->off = chance(90) ? ARIO_OFF_CURRENT : rnd(64);
    e->len = chance(10) ? 0 : 1 + rnd(8192);
    e->op_flags = chance(90) ? rnd(8) : (uint32_t)next64();
    break;
  case ARIO_OP_TEE: /* addr is fd_in; offsets only as noise (-EINVAL) */
    e->addr = (uint64_t)(uint32_t)pick_fd();
    e->addr2 = chance(95) ? 0 : ARIO_OFF_CURRENT;
    e->off = chance(95) ? 0 : rnd(64);
    e->len = chance(10) ? 0 : 1 + rnd(8192);
    e->op_flags = chance(90) ? rnd(8) : (uint32_t)next64();
    break;
  case ARIO_OP_TIMEOUT:
  case ARIO_OP_LINK_TIMEOUT:
    e->fd = -1;
    if (chance(5)) e->off = (uint64_t)INT64_MAX + 1 + rnd(1000); /* -EINVAL */
    else if (chance(5)) e->off = (uint64_t)INT64_MAX - rnd(1000); /* saturates */
    else e->off = rnd(3000000);
    if (chance(15)) {
      e->op_flags = ARIO_TIMEOUT_ABS;
      if (e->off <= (uint64_t)INT64_MAX && e->off < 3000000) e->off += (uint64_t)ario_now();
    }
    if (e->op == ARIO_OP_TIMEOUT) e->len = rnd(4);
    break;
  case ARIO_OP_CANCEL:
    e->fd = -1;
    switch (rnd(4)) {
    case 0: e->op_flags = ARIO_CANCEL_FD | (chance(50) ? ARIO_CANCEL_ALL : 0); e->fd = pick_fd(); break;
    case 1: e->op_flags = ARIO_CANCEL_ANY | (chance(50) ? ARIO_CANCEL_ALL : 0); break;
    default:
      e->addr = idx > 0 && chance(90) ? UD(rnd((uint32_t)idx)) : next64();
      if (chance(30)) e->op_flags = ARIO_CANCEL_ALL;
      break;
    }
    break;
  default: break;
  }
  if (chance(25)) e->flags = ARIO_SQE_LINK;
  else if (chance(8)) e->flags = ARIO_SQE_HARDLINK;
  /* noise: any one field, any value */
  if (chance(12)) {
    switch (rnd(9)) {
    case 0: e->flags = (uint8_t)rnd(256); break;
    case 1: e->reserved = (uint16_t)rnd(65536); break;
    case 2: e->len = (uint32_t)next64(); break;
    case 3: e->off = next64(); break;
    case 4: e->op_flags = (uint32_t)next64(); break;
    case 5: e->addr2 = chance(50) ? 0 : (uint64_t)(uintptr_t)sa_out[rnd(SA_SLOTS)]; break;
    case 6: e->addr = chance(50) ? 0 : arena_addr(&cap); break;
    case 7: e->fd = chance(50) ? -1 - (int32_t)rnd(5) : (int32_t)next64(); break;
    default: e->op = (uint8_t)rnd(256); break;
    }
  }
  /* memory safety, the caller's contract: a buffer the kernel may write or
   * read lies in a known region and its length stays inside it;
   * RECVFROM/ACCEPT length pointers are valid */
  int vec = e->op == ARIO_OP_READV || e->op == ARIO_OP_WRITEV;
  int msg = e->op == ARIO_OP_RECVMSG || e->op == ARIO_OP_SENDMSG;
  /* vectored ops read an array or msghdr at addr: never noise */
  if (vec && e->addr) e->addr = vec_array();
  if (msg && e->addr) e->addr = vec_msghdr(e->op == ARIO_OP_SENDMSG);
  if (e->op == ARIO_OP_OPENAT && e->addr && !is_path(e->addr))
    e->addr = (uint64_t)(uintptr_t)paths[1]; /* never a path made of noise */
  if (e->addr && !vec && !msg && e->op != ARIO_OP_SPLICE && e->op != ARIO_OP_TEE && !(e->op == ARIO_OP_OPENAT && is_path(e->addr))) {
    uint32_t room = region_room(e->addr);
    if (!room) e->addr = 0;
    else if (e->len <= (uint32_t)INT32_MAX && e->len > room) e->len = room;
  }
  if (e->op == ARIO_OP_ACCEPT && e->addr && region_room(e->addr) < 128)
    e->addr = (uint64_t)(uintptr_t)sa_out[rnd(SA_SLOTS)]; /* the kernel writes up to *addr2 */
  if (e->op == ARIO_OP_ACCEPT && e->addr2) {
    uint32_t k = rnd(SA_SLOTS);
    sa_len[k] = rnd(129);
    e->addr2 = (uint64_t)(uintptr_t)&sa_len[k];
  }
  if (e->op == ARIO_OP_RECVFROM && e->off) {
    uint32_t k = rnd(SA_SLOTS);
    sa_len[k] = rnd(129);
    e->off = (uint64_t)(uintptr_t)&sa_len[k];
  }
  if ((e->op == ARIO_OP_RECVFROM || e->op == ARIO_OP_SENDTO) && e->addr2) {
    e->addr2 = (uint64_t)(uintptr_t)sa_out[rnd(SA_SLOTS)];
  }
  if (e->op == ARIO_OP_SENDTO && e->addr2 && e->off > 128 && e->off <= 4096) e->off = 128;
  /* a SPLICE's or TEE's fd_in (addr) names only the harness's fds or closed numbers */
  if ((e->op == ARIO_OP_SPLICE || e->op == ARIO_OP_TEE) && e->addr <= (uint64_t)INT32_MAX &&
      kind_of((int)e->addr) == K_CLOSED && fcntl((int)e->addr, F_GETFD) >= 0)
    e->addr = (uint64_t)closed_numbers[1];
  /* a CLOSE whose fd noise changed must still only close a scratch pipe */
  if (e->op == ARIO_OP_CLOSE && kind_of(e->fd) != K_SCRATCH && e->fd >= 0 &&
      fcntl(e->fd, F_GETFD) >= 0)
    e->fd = closed_numbers[0];
  /* nor may a noisy fd name a descriptor the harness does not own */
  if (e->op != ARIO_OP_SOCKET && e->fd >= 0 && kind_of(e->fd) == K_CLOSED && /* SOCKET: a domain */
      fcntl(e->fd, F_GETFD) >= 0)
    e->fd = closed_numbers[1];
}

/* ------------------------------------------------------------ reaping -- */

static int retired[MAXFD], nretired;
static int is_retired(int fd) {
  for (int i = 0; i < nretired; i++)
    if (retired[i] == fd) return 1;
  return 0;
}

static void on_cqe(const ario_cqe *c) {
  uint64_t ud = c->user_data;
  uint32_t i = (uint32_t)(ud & 0xFFFFF);
  if (!(ud >> 63) || ((ud >> 20) & 0x7FFFFFFFFFFull) != (epoch & 0x7FFFFFFFFFFull) ||
      i >= (uint32_t)nops)
    FAIL("completion with unknown user_data %#llx (res %d)", (unsigned long long)ud, c->res);
  rec *r = &ops[i];
  if (!r->consumed) FAIL("completion of op %u that was never consumed", i);
  if (r->done) FAIL("second completion of op %u (op %u, res %d then %d)", i, r->e.op, r->res, c->res);
  if (c->flags & ARIO_CQE_F_BUFFER) { /* a chunk of a RECV_MULTI, in a buffer of group 0 */
    uint32_t bid = c->flags >> ARIO_CQE_BUFFER_SHIFT;
    if (r->e.op != ARIO_OP_RECV_MULTI || r->e.len != 0 || bid >= NBUFS || c->res <= 0 ||
        (uint32_t)c->res > 1 + bid * 5)
      FAIL("op %u (op %u): buffer %u with res %d", i, r->e.op, bid, c->res);
    if (held[bid]) FAIL("op %u: buffer %u delivered twice without being given back", i, bid);
    held[bid] = 1;
    chunks++;
    if (chance(60)) give_buf(bid);
    else later[nlater++] = (int)bid;
  } else if (c->flags >> ARIO_CQE_BUFFER_SHIFT) {
    FAIL("op %u: a buffer id without ARIO_CQE_F_BUFFER (%#x)", i, c->flags);
  }
  if (c->flags & ~(ARIO_CQE_F_MORE | ARIO_CQE_F_BUFFER | 0xFFFF0000u))
    FAIL("op %u: unexpected cqe flags %#x", i, c->flags);
  if (c->flags & ARIO_CQE_F_MORE) { /* a multishot op goes on: one accepted fd, or one chunk */
    if ((r->e.op != ARIO_OP_ACCEPT_MULTI && r->e.op != ARIO_OP_RECV_MULTI) || c->res < 0 ||
        (r->e.op == ARIO_OP_RECV_MULTI) != ((c->flags & ARIO_CQE_F_BUFFER) != 0))
      FAIL("op %u (op %u): F_MORE with res %d", i, r->e.op, c->res);
    if (r->e.op == ARIO_OP_ACCEPT_MULTI) close(c->res);
    return;
  }
  r->done = 1;
  r->res = c->res;
  completed_total++;
  if ((r->e.op == ARIO_OP_ACCEPT || r->e.op == ARIO_OP_ACCEPT_MULTI || r->e.op == ARIO_OP_SOCKET) &&
      c->res >= 0)
    close(c->res); /* an ACCEPT_MULTI's last may bring an fd too (a CQ overflow) */
  /* a pool thread's OPENAT may take a number retire() then put /dev/null on */
  if (r->e.op == ARIO_OP_OPENAT && c->res >= 0 && !is_retired(c->res)) close(c->res);
}

static int reap(int64_t timeout_ns) {
  ario_cqe c[64];
  int n = ario_reap(l, c, 64, timeout_ns);
  if (n < 0) FAIL("ario_reap: %d", n);
  for (int k = 0; k < n; k++) on_cqe(&c[k]);
  if (ario_inflight(l) != consumed_total - completed_total)
    FAIL("ario_inflight %u, consumed %llu - completed %llu", ario_inflight(l),
         (unsigned long long)consumed_total, (unsigned long long)completed_total);
  return n;
}

/* Whether an ACCEPT_MULTI on fd goes on: it takes every connection. */
static int multishot_on(int32_t fd) {
  for (int k = 0; k < nops; k++)
    if (ops[k].consumed && !ops[k].done && ops[k].e.op == ARIO_OP_ACCEPT_MULTI && ops[k].e.fd == fd)
      return 1;
  return 0;
}

/* Whether op i may stay pending once every fd is ready: its condition can
 * never hold (or it waits behind one whose condition cannot). */
static int exempt(int i, int backend) {
  rec *r = &ops[i];
  if (r->prev >= 0 && !ops[r->prev].done) return 1; /* not started yet */
  if (r->far) return 1;                            /* a timer far away */
  int kind = kind_of(r->e.fd);
  int sel = backend == ARIO_BACKEND_SELECT;
  int ready_backend = backend != ARIO_BACKEND_IO_URING;
  /* io_uring: a linked op the retire's cancel set going may be issued
   * while the old file is still open; it then holds that file (no fd left
   * to ready it) until CANCEL ANY ends it */
  if (!ready_backend && kind == K_RETIRED && r->prev >= 0) return 1;
  /* an ACCEPT_MULTI takes every client of its listener: nothing else on it
   * ever sees it readable */
  if (kind == K_LISTEN && r->e.op != ARIO_OP_ACCEPT_MULTI && multishot_on(r->e.fd)) return 1;
  switch (r->e.op) {
  case ARIO_OP_ACCEPT_MULTI: return kind == K_LISTEN; /* goes on until cancelled */
  case ARIO_OP_POLL: {
    unsigned m = r->e.op_flags;
    /* /dev/null (a retired number, started late in a chain) is readable and
     * writable, nothing else, and never hangs up */
    if (kind == K_RETIRED && !(m & (ARIO_POLL_IN | ARIO_POLL_OUT))) return 1;
    if (kind == K_LISTEN && !(m & ARIO_POLL_IN)) return 1; /* a listener reports IN only */
    /* a regular file is always readable and writable, nothing else (epoll: EPERM) */
    if (kind == K_FILE && !(m & (ARIO_POLL_IN | ARIO_POLL_OUT))) return 1;
    /* select has no HUP: only IN (EOF) or OUT reports a closed peer */
    if (sel && !(m & (ARIO_POLL_IN | ARIO_POLL_OUT))) return 1;
    if (sel && !(m & ARIO_POLL_IN) && (kind == K_PIPE_RD || kind == K_SCRATCH)) return 1;
    return 0;
  }
  case ARIO_OP_WRITE:
  case ARIO_OP_WRITEV:
    /* readiness backends wait for POLLOUT before a WRITE: a listener never
     * reports it, nor (select, no HUP) a pipe's read end */
    if (ready_backend && kind == K_LISTEN) return 1;
    if (sel && (kind == K_PIPE_RD || kind == K_SCRATCH)) return 1;
    return 0;
  default: return 0;
  }
}

/* The failing epoch's ops, for the report. */
static void dump_epoch(void) {
  for (int i = 0; i < nops; i++) {
    const rec *r = &ops[i];
    fprintf(stderr, "  op %2d: %s op %3u fd %5d kind %d flags %#4x len %10u addr %d addr2 %d off %#llx "
            "op_flags %#x reserved %u -> %s %d\n",
            i, r->consumed ? "   " : "NOT", r->e.op, r->e.fd, kind_of(r->e.fd), r->e.flags, r->e.len,
            r->e.addr != 0, r->e.addr2 != 0, (unsigned long long)r->e.off, r->e.op_flags, r->e.reserved,
            r->done ? "res" : "PENDING", r->res);
  }
}

/* Reaps until every pending op is exempt, at most bound_ns. */
static void settle(int64_t bound_ns, int backend) {
  int64_t until = ario_now() + bound_ns;
  for (;;) {
    int pending = -1;
    for (int i = 0; i < nops && pending < 0; i++)
      if (ops[i].consumed && !ops[i].done && !exempt(i, backend)) pending = i;
    if (pending < 0) return;
    if (ario_now() > until) {
      rec *r = &ops[pending];
      dump_epoch();
      FAIL("liveness: op %d (op %u fd %d kind %d flags %#x len %u off %#llx op_flags %#x) still "
           "pending once every fd was ready",
           pending, r->e.op, r->e.fd, kind_of(r->e.fd), r->e.flags, r->e.len,
           (unsigned long long)r->e.off, r->e.op_flags);
    }
    reap(10000000);
  }
}

/* Closes a harness fd through the loop and holds its number on /dev/null
 * until the epoch ends: a number freed mid-epoch would be reused by an
 * accepted socket, and an op chained to start later would then wait on
 * that socket, which the harness closes behind the loop's back. */
static void retire(int fd) {
  CHECK_EQ(ario_close(l, fd), 0);
  int z = open("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK(z >= 0);
  if (z != fd) {
    int d;
    while ((d = dup2(z, fd)) < 0 && errno == EBUSY) { /* a pool thread's openat takes it now */
    }
    CHECK_EQ(d, fd);
    close(z);
  }
  retired[nretired++] = fd;
  for (int i = 0; i < nfds; i++)
    if (fds[i] == fd) kinds[i] = K_RETIRED; /* /dev/null from now on */
}

static void feed(void) {
  static const char data[512] = {1};
  for (int i = 0; i < nfds; i++) {
    if (kinds[i] == K_PIPE_WR || kinds[i] == K_SOCK || kinds[i] == K_SOCK_PEER) {
      ssize_t w = write(fds[i], data, 64 + rnd(448));
      (void)w;
    }
  }
  for (int i = 0; i < nscratch; i++) {
    ssize_t w = write(scratch_wr[i], data, 16);
    (void)w;
  }
  if (chance(30)) {
    char tmp[4096];
    for (int i = 0; i < nfds; i++)
      if (kinds[i] == K_PIPE_RD || kinds[i] == K_SOCK_PEER)
        while (read(fds[i], tmp, sizeof tmp) > 0) {
        }
  }
}

int main(void) {
  for (const char *o = getenv("ARIO_FUZZ_SKIP_OPS"); o && *o; o += *o == ',') {
    char *end;
    unsigned long v = strtoul(o, &end, 10);
    if (end == o) break;
    if (v < 64) skip_ops |= 1ull << v;
    o = end;
  }
  const char *s = getenv("ARIO_FUZZ_SEED");
  const char *it = getenv("ARIO_FUZZ_ITERS");
  backend_name = getenv("ARIO_BACKEND") ? getenv("ARIO_BACKEND") : "default";
  seed = s && *s ? strtoull(s, 0, 0) : (uint64_t)ario_now() ^ ((uint64_t)getpid() << 32);
  unsigned iters = it && *it ? (unsigned)strtoul(it, 0, 0) : 1500;
  rng = seed;
  struct rlimit rlim;
  if (getrlimit(RLIMIT_NOFILE, &rlim) == 0 && rlim.rlim_cur < 4096 && rlim.rlim_max >= 4096) {
    rlim.rlim_cur = 4096;
    setrlimit(RLIMIT_NOFILE, &rlim);
  }
  uint32_t entries = 4 + rnd(60);
  l = t_loop(entries);
  register_bufs();
  int backend = ario_backend(l);
  uint64_t kinds_seen[256] = {0};

  for (epoch = 1; epoch <= iters; epoch++) {
    open_fds();
    nops = 0;
    nclients = 0;
    unsigned batches = 1 + rnd(3);
    for (unsigned b = 0; b < batches; b++) {
      ario_sqe e[16];
      uint32_t n = 1 + rnd(16);
      if (nops + (int)n > MAXOPS) break;
      int base = nops;
      addr_copy = listen_addr;
      for (uint32_t k = 0; k < n; k++) {
        random_entry(&e[k], base + (int)k);
        rec *r = &ops[base + (int)k];
        memset(r, 0, sizeof *r);
        r->e = e[k];
        r->prev = k > 0 && (e[k - 1].flags & (ARIO_SQE_LINK | ARIO_SQE_HARDLINK)) ? base + (int)k - 1 : -1;
        r->far = (e[k].op == ARIO_OP_TIMEOUT || e[k].op == ARIO_OP_LINK_TIMEOUT) &&
                 e[k].off > 1000000000ull && e[k].off <= (uint64_t)INT64_MAX &&
                 !(e[k].op_flags & ~ARIO_TIMEOUT_ABS);
        if ((e[k].op_flags & ARIO_TIMEOUT_ABS) && e[k].off > (uint64_t)ario_now() + 1000000000ull &&
            e[k].off <= (uint64_t)INT64_MAX)
          r->far = e[k].op == ARIO_OP_TIMEOUT || e[k].op == ARIO_OP_LINK_TIMEOUT;
      }
      nops = base + (int)n;
      int got = ario_submit(l, e, n);
      if (got < 0 || (uint32_t)got > n) FAIL("ario_submit returned %d for %u", got, n);
      for (int k = 0; k < got; k++) {
        ops[base + k].consumed = 1;
        kinds_seen[e[k].op]++;
      }
      consumed_total += (uint64_t)got;
      if (ario_inflight(l) != consumed_total - completed_total)
        FAIL("after submit: ario_inflight %u, expected %llu", ario_inflight(l),
             (unsigned long long)(consumed_total - completed_total));
      feed();
      connect_clients((int)rnd(3));
      reap(chance(30) ? 1000000 : 0);
      give_later();
    }

    /* the oracle: every fd ready, then every op whose condition holds ends */
    int on_listener = 0;
    for (int i = 0; i < nops; i++) on_listener += ops[i].consumed && !ops[i].done;
    connect_clients(on_listener + 1);
    feed();
    nretired = 0;
    for (int i = 0; i < nfds; i++)
      if (kinds[i] == K_PIPE_WR || kinds[i] == K_SOCK_PEER) retire(fds[i]);
    for (int i = 0; i < nscratch; i++) close(scratch_wr[i]);
    settle(3000000000LL, backend);

    /* end what may wait for ever, and check that nothing is left */
    for (int i = 0; i < nfds; i++)
      if (kinds[i] == K_PIPE_RD || kinds[i] == K_SOCK || kinds[i] == K_LISTEN ||
          kinds[i] == K_FILE)
        retire(fds[i]); /* a file: perhaps while a pool job runs on it */
      else if (kinds[i] == K_SCRATCH && fcntl(fds[i], F_GETFD) >= 0)
        ario_close(l, fds[i]); /* numbered high: never reused */
    int64_t until = ario_now() + 3000000000LL;
    while (ario_inflight(l) > 0) {
      if (nops < MAXOPS) {
        rec *r = &ops[nops];
        memset(r, 0, sizeof *r);
        r->e = t_sqe(ARIO_OP_CANCEL, -1, UD(nops));
        r->e.op_flags = ARIO_CANCEL_ANY | ARIO_CANCEL_ALL;
        r->prev = -1;
        int got = ario_submit(l, &r->e, 1);
        if (got == 1) {
          r->consumed = 1;
          consumed_total++;
          nops++;
        }
      }
      reap(10000000);
      if (ario_now() > until) {
        for (int i = 0; i < nops; i++)
          if (ops[i].consumed && !ops[i].done)
            fprintf(stderr, "  left: op %d (op %u fd %d flags %#x)\n", i, ops[i].e.op, ops[i].e.fd,
                    ops[i].e.flags);
        FAIL("%u ops still in flight after CANCEL ANY|ALL and ario_close", ario_inflight(l));
      }
    }
    for (int i = 0; i < nops; i++)
      if (ops[i].consumed && !ops[i].done) FAIL("op %d consumed, never completed", i);
    give_later();
    if (ario_buffers_unregister(l, 0) != 0) FAIL("group 0 still in use with nothing in flight");
    register_bufs();
    for (int i = 0; i < nclients; i++) close(clients[i]);
    for (int i = 0; i < nretired; i++) close(retired[i]);
  }
  if (getenv("ARIO_TEST_VERBOSE")) {
    fprintf(stderr, "fuzz: seed %llu, %u epochs, entries %u, consumed %llu, RECV_MULTI chunks %llu:",
            (unsigned long long)seed, iters, entries, (unsigned long long)consumed_total, chunks);
    for (int k = 0; k < ARIO_OP_COUNT_; k++) fprintf(stderr, " %d:%llu", k, (unsigned long long)kinds_seen[k]);
    fprintf(stderr, "\n");
  }
  ario_deinit(l);
  return T_EXIT_PASS;
}
