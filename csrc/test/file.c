/*
 * file.c: regular files on every backend: OPENAT, FSYNC, READ/WRITE at
 * offsets (the file pool on readiness backends, pool.c; the kernel on
 * io_uring). Many concurrent preads checked byte by byte, cancel of queued
 * and running jobs, CLOSE and ario_close racing jobs, links and linked
 * timeouts, ario_deinit with jobs in flight. Threaded: also run under
 * ThreadSanitizer (scripts/test-c.sh tsan_tests).
 */
#include "test.h"
#if defined(_WIN32)
int main(void) { /* no file pool there: OPENAT and FSYNC answer -EOPNOTSUPP (ario.h) */
  t_printf("SKIP: Windows has no file pool (descriptors are sockets)\n");
  return T_EXIT_SKIP;
}
#else
#include <fcntl.h>
#include <sys/stat.h>

#define BIG (16u << 20)   /* a job that takes a while to copy */
#define BLOCK 4096u
#define NBLOCKS 1024u     /* the 4 MiB pattern file */

static char path[64], path2[64];
static unsigned char *bigbuf[8];

static unsigned char pattern(uint64_t at) { return (unsigned char)((at * 2654435761u) >> 13); }

static void remove_files(void) {
  unlink(path);
  unlink(path2);
}

static void make_files(void) {
  snprintf(path, sizeof path, "/tmp/ario-file-%d", (int)getpid());
  snprintf(path2, sizeof path2, "/tmp/ario-file2-%d", (int)getpid());
  atexit(remove_files);
  int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  static unsigned char block[BLOCK];
  for (uint32_t b = 0; b < NBLOCKS; b++) {
    for (uint32_t k = 0; k < BLOCK; k++) block[k] = pattern((uint64_t)b * BLOCK + k);
    CHECK_EQ(write(fd, block, BLOCK), BLOCK);
  }
  close(fd);
  fd = open(path2, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  memset(bigbuf[0], 0x5A, BIG); /* not sparse: reading it takes a while */
  CHECK_EQ(write(fd, bigbuf[0], BIG), BIG);
  close(fd);
}

static ario_sqe e_rw(uint8_t op, int fd, void *buf, uint32_t len, uint64_t off, uint64_t ud) {
  ario_sqe e = t_sqe(op, fd, ud);
  e.addr = t_addr(buf);
  e.len = len;
  e.off = off;
  return e;
}

static ario_sqe e_openat(int dirfd, const char *p, uint32_t flags, uint32_t mode, uint64_t ud) {
  ario_sqe e = t_sqe(ARIO_OP_OPENAT, dirfd, ud);
  e.addr = t_addr(p);
  e.op_flags = flags;
  e.len = mode;
  return e;
}

static ario_sqe e_cancel(uint64_t key, uint64_t ud) {
  ario_sqe e = t_sqe(ARIO_OP_CANCEL, -1, ud);
  e.addr = key;
  return e;
}

/* Reaps `want` completions into res[ud] (ud < 256), 10 s at most. */
static void reap_into(ario_loop *l, int32_t *res, int want) {
  ario_cqe c[64];
  int64_t until = ario_now() + 10000000000LL;
  while (want > 0) {
    CHECK(ario_now() < until);
    int n = ario_reap(l, c, 64, 100000000);
    CHECK(n >= 0);
    for (int i = 0; i < n; i++) {
      CHECK(c[i].user_data < 256);
      res[c[i].user_data] = c[i].res;
    }
    want -= n;
  }
}

static int32_t run1(ario_loop *l, ario_sqe e) {
  int32_t res[256];
  e.user_data = 1;
  CHECK_EQ(ario_submit(l, &e, 1), 1);
  reap_into(l, res, 1);
  return res[1];
}

/* 60 concurrent preads at scattered offsets, every byte checked. */
static void many_preads(ario_loop *l) {
  static unsigned char buf[60][3000];
  ario_sqe s[60];
  int32_t res[256];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  for (int rounds = 0; rounds < 20; rounds++) {
    uint64_t offs[60];
    for (int k = 0; k < 60; k++) {
      offs[k] = ((uint64_t)(rand() % (NBLOCKS * BLOCK)));
      memset(buf[k], 0, sizeof buf[k]);
      s[k] = e_rw(ARIO_OP_READ, fd, buf[k], sizeof buf[k], offs[k], (uint64_t)k);
    }
    CHECK_EQ(ario_submit(l, s, 60), 60);
    reap_into(l, res, 60);
    for (int k = 0; k < 60; k++) {
      uint64_t left = NBLOCKS * BLOCK - offs[k];
      uint32_t want = left < sizeof buf[k] ? (uint32_t)left : (uint32_t)sizeof buf[k];
      CHECK_EQ(res[k], want); /* short at the end of the file */
      for (uint32_t b = 0; b < want; b++)
        if (buf[k][b] != pattern(offs[k] + b)) t_fail("byte %u of read %d wrong\n", b, k);
    }
  }
  close(fd);
}

/* Writes at offsets, then reads back; EOF reads 0; the position advances
 * with ARIO_OFF_CURRENT. */
static void write_read_back(ario_loop *l) {
  char buf[16];
  int fd = run1(l, e_openat(AT_FDCWD, path2, O_RDWR, 0, 0)), wr;
  CHECK(fd >= 0);
  CHECK_EQ(run1(l, e_rw(ARIO_OP_WRITE, fd, "abcdef", 6, 100, 0)), 6);
  CHECK_EQ(run1(l, e_rw(ARIO_OP_WRITE, fd, "XY", 2, 102, 0)), 2);
  CHECK_EQ(run1(l, e_rw(ARIO_OP_READ, fd, buf, 6, 100, 0)), 6);
  CHECK(!memcmp(buf, "abXYef", 6));
  CHECK_EQ(run1(l, e_rw(ARIO_OP_READ, fd, buf, 16, BIG, 0)), 0); /* at EOF */
  CHECK_EQ(run1(l, e_rw(ARIO_OP_READ, fd, buf, 16, BIG - 3, 0)), 3);
  CHECK_EQ(lseek(fd, 100, SEEK_SET), 100);
  CHECK_EQ(run1(l, e_rw(ARIO_OP_READ, fd, buf, 4, ARIO_OFF_CURRENT, 0)), 4);
  CHECK_EQ(run1(l, e_rw(ARIO_OP_READ, fd, buf + 4, 2, ARIO_OFF_CURRENT, 0)), 2);
  CHECK(!memcmp(buf, "abXYef", 6));
  ario_sqe fs = t_sqe(ARIO_OP_FSYNC, fd, 0);
  CHECK_EQ(run1(l, fs), 0);
  fs.op_flags = ARIO_FSYNC_DATASYNC;
  CHECK_EQ(run1(l, fs), 0);
  CHECK_EQ(run1(l, t_sqe(ARIO_OP_CLOSE, fd, 0)), 0);
  CHECK(fcntl(fd, F_GETFD) < 0);
  /* openat: errors, O_CLOEXEC always, a directory fd */
  CHECK_EQ(run1(l, e_openat(AT_FDCWD, "/nonexistent-ario/x", O_RDONLY, 0, 0)), -ENOENT);
  CHECK_EQ(run1(l, e_openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, 0, 0)), -ENOTDIR);
  CHECK_EQ(run1(l, e_openat(AT_FDCWD, "", O_RDONLY, 0, 0)), -ENOENT);
  ario_sqe bad = e_openat(AT_FDCWD, path, O_RDONLY, 0, 0);
  bad.addr = 0;
  CHECK_EQ(run1(l, bad), -EFAULT);
  int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(dir >= 0);
  fd = run1(l, e_openat(dir, path + 5, O_RDONLY, 0, 0)); /* relative to /tmp */
  CHECK(fd >= 0);
  CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
  CHECK_EQ(run1(l, e_rw(ARIO_OP_READ, dir, buf, 4, 0, 0)), -EISDIR);
  close(fd);
  close(dir);
  /* a FIFO without a writer never holds a pool thread: it opens at once */
  char fifo[80];
  snprintf(fifo, sizeof fifo, "%s.fifo", path);
  CHECK_EQ(mkfifo(fifo, 0600), 0);
  if (ario_backend(l) == ARIO_BACKEND_IO_URING) { /* the kernel's open waits for the peer */
    int32_t res[256];
    ario_sqe both[2] = {e_openat(AT_FDCWD, fifo, O_RDONLY, 0, 1), e_openat(AT_FDCWD, fifo, O_WRONLY, 0, 2)};
    CHECK_EQ(ario_submit(l, both, 2), 2);
    reap_into(l, res, 2);
    fd = res[1], wr = res[2];
  } else {
    CHECK_EQ(run1(l, e_openat(AT_FDCWD, fifo, O_WRONLY, 0, 0)), -ENXIO); /* no reader */
    fd = run1(l, e_openat(AT_FDCWD, fifo, O_RDONLY, 0, 0));
    wr = run1(l, e_openat(AT_FDCWD, fifo, O_WRONLY, 0, 0));
  }
  unlink(fifo);
  CHECK(fd >= 0 && wr >= 0);
  CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
  close(fd);
  close(wr);
  int p[2];
  CHECK_EQ(ario_pipe(p), 0);
  CHECK_EQ(run1(l, t_sqe(ARIO_OP_FSYNC, p[1], 0)), -EINVAL);
  close(p[0]);
  close(p[1]);
}

/* openat -> write -> fsync -> close as one soft chain; a failing openat
 * cancels the rest before it writes. */
static void chains(ario_loop *l) {
  int32_t res[256];
  int fd = open(path2, O_RDWR | O_CLOEXEC);
  CHECK(fd >= 0);
  ario_sqe s[4] = {e_openat(AT_FDCWD, path2, O_RDONLY, 0, 10),
                   e_rw(ARIO_OP_WRITE, fd, "chain", 5, 500, 11), t_sqe(ARIO_OP_FSYNC, fd, 12),
                   t_sqe(ARIO_OP_CLOSE, fd, 13)};
  for (int k = 0; k < 3; k++) s[k].flags = ARIO_SQE_LINK;
  CHECK_EQ(ario_submit(l, s, 4), 4);
  reap_into(l, res, 4);
  CHECK(res[10] >= 0);
  CHECK_EQ(res[11], 5);
  CHECK_EQ(res[12], 0);
  CHECK_EQ(res[13], 0);
  close(res[10]);
  char got[5];
  int rd = open(path2, O_RDONLY | O_CLOEXEC);
  CHECK_EQ(pread(rd, got, 5, 500), 5);
  CHECK(!memcmp(got, "chain", 5));
  /* the same chain after a failing openat: nothing else runs */
  s[0] = e_openat(AT_FDCWD, "/nonexistent-ario/x", O_RDONLY, 0, 10);
  s[0].flags = ARIO_SQE_LINK;
  s[1].addr = t_addr("NOPE!");
  s[1].fd = s[2].fd = s[3].fd = rd;
  CHECK_EQ(ario_submit(l, s, 4), 4);
  reap_into(l, res, 4);
  CHECK_EQ(res[10], -ENOENT);
  CHECK_EQ(res[11], -ECANCELED);
  CHECK_EQ(res[12], -ECANCELED);
  CHECK_EQ(res[13], -ECANCELED);
  CHECK_EQ(pread(rd, got, 5, 500), 5);
  CHECK(!memcmp(got, "chain", 5));
  CHECK(fcntl(rd, F_GETFD) >= 0); /* the CLOSE never ran */
  /* a linked timeout that does not fire: the read completes, it is cancelled */
  static unsigned char buf[BLOCK];
  ario_sqe lt[2] = {e_rw(ARIO_OP_READ, rd, buf, BLOCK, 0, 20),
                    t_sqe(ARIO_OP_LINK_TIMEOUT, -1, 21)};
  lt[0].flags = ARIO_SQE_LINK;
  lt[1].off = 10000000000ull;
  CHECK_EQ(ario_submit(l, lt, 2), 2);
  reap_into(l, res, 2);
  CHECK_EQ(res[20], BLOCK);
  CHECK_EQ(res[21], -ECANCELED);
  close(rd);
}

/* Keeps the pool's threads busy with big reads (ud 100..), so jobs after
 * them stay queued for a while. */
static int big_fd;
static void occupy(ario_loop *l, int n) {
  ario_sqe s[8];
  for (int k = 0; k < n; k++) s[k] = e_rw(ARIO_OP_READ, big_fd, bigbuf[k], BIG, 0, 100 + (uint64_t)k);
  CHECK_EQ(ario_submit(l, s, (uint32_t)n), (uint32_t)n);
}

/* A job cancelled while queued completes -ECANCELED; one a thread runs is
 * not stopped (-EALREADY) and completes with its result; io_uring reads a
 * cached file at once (-ENOENT: nothing left to cancel). */
static void cancels(ario_loop *l) {
  int32_t res[256];
  static unsigned char buf[BLOCK];
  int saw_queued = 0, saw_running = 0;
  for (int round = 0; round < 40 && !(saw_queued && saw_running); round++) {
    occupy(l, 4);
    ario_sqe s[3] = {e_rw(ARIO_OP_READ, big_fd, buf, BLOCK, 0, 10),
                     t_sqe(ARIO_OP_LINK_TIMEOUT, -1, 11), e_cancel(100, 12)};
    s[0].flags = ARIO_SQE_LINK;
    s[1].off = 1000; /* 1 us: fires while the read waits behind the big ones */
    CHECK_EQ(ario_submit(l, s, 2), 2);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, 0);
    CHECK_EQ(ario_submit(l, s + 2, 1), 1); /* the first big read, running by now */
    reap_into(l, res, 7);
    if (res[12] == 0) {
      CHECK_EQ(res[100], -ECANCELED);
      saw_queued = 1;
    } else if (res[12] == -EALREADY || res[12] == -ENOENT) {
      CHECK_EQ(res[100], BIG);
      saw_running = 1;
    } else {
      t_fail("cancel of a big read: %d\n", res[12]);
    }
    for (int k = 1; k < 4; k++) CHECK_EQ(res[100 + k], BIG);
    CHECK(res[10] == BLOCK || res[10] == -ECANCELED);
    /* the timeout: -ETIME if it stopped the read, -EALREADY if the read ran
     * (a thread's, or the kernel's), -ECANCELED if the read came first,
     * -ENOENT if the kernel's read finished just as it fired */
    if (!(res[11] == -ETIME || res[11] == -EALREADY || res[11] == -ECANCELED ||
          res[11] == -ENOENT)) t_fail("lt %d read %d\n", res[11], res[10]);
    CHECK_EQ(res[10] == -ECANCELED, res[11] == -ETIME);
  }
  if (ario_backend(l) != ARIO_BACKEND_IO_URING) CHECK(saw_running);
  /* queued ones, by CANCEL ALL on the fd in the same batch: each completes
   * exactly once (rounds again if the busy threads were fast: emulation) */
  int cancelled = 0;
  for (int round = 0; round < 20 && !cancelled; round++) {
    occupy(l, 4);
    ario_sqe q[21];
    for (int k = 0; k < 20; k++) q[k] = e_rw(ARIO_OP_READ, big_fd, buf, 16, (uint64_t)k, 20 + (uint64_t)k);
    q[20] = t_sqe(ARIO_OP_CANCEL, big_fd, 50);
    q[20].op_flags = ARIO_CANCEL_FD | ARIO_CANCEL_ALL;
    CHECK_EQ(ario_submit(l, q, 21), 21);
    for (int k = 0; k < 256; k++) res[k] = 1;
    reap_into(l, res, 25);
    for (int k = 0; k < 20; k++) {
      CHECK(res[20 + k] == 16 || res[20 + k] == -ECANCELED);
      cancelled += res[20 + k] == -ECANCELED;
    }
    CHECK(res[50] >= cancelled);
    if (ario_backend(l) == ARIO_BACKEND_IO_URING) break; /* the kernel may read them all at once */
  }
  if (ario_backend(l) != ARIO_BACKEND_IO_URING) CHECK(cancelled > 0);
  CHECK_EQ(ario_inflight(l), 0);
}

/* A linked timeout that expires while its read runs on a pool thread
 * completes -EALREADY and is reaped at once, so its slot is reused (here
 * by a long TIMEOUT) before the read ends; the read's completion must not
 * touch that slot (it once started or cancelled the op there). */
static void timeout_slot_reused(ario_loop *l) {
  ario_cqe c[8];
  for (int round = 0; round < 60; round++) {
    ario_sqe s[2] = {e_rw(ARIO_OP_READ, big_fd, bigbuf[0], BIG, 0, 60), t_sqe(ARIO_OP_LINK_TIMEOUT, -1, 61)};
    s[0].flags = ARIO_SQE_LINK;
    s[1].off = 1000; /* 1 us */
    CHECK_EQ(ario_submit(l, s, 2), 2);
    struct timespec ts = {0, 200000 + 100000 * (round % 4)};
    nanosleep(&ts, 0); /* a thread takes the read; the timeout is due */
    int32_t lt = 1, rd = 1;
    while (lt == 1) { /* the timeout first: then its slot is free */
      int n = ario_reap(l, c, 1, 100000000);
      CHECK(n >= 0);
      if (n && c[0].user_data == 61) lt = c[0].res;
      else if (n) rd = c[0].res;
    }
    s[0] = t_sqe(ARIO_OP_TIMEOUT, -1, 62); /* takes the slot just freed */
    s[0].off = 10ull * 1000 * 1000 * 1000;
    CHECK_EQ(ario_submit(l, s, 1), 1);
    int got62 = 0;
    int64_t until = ario_now() + 5000000000LL;
    while (rd == 1 && ario_now() < until) {
      int n = ario_reap(l, c, 8, 10000000);
      for (int k = 0; k < n; k++) {
        if (c[k].user_data == 60) rd = c[k].res;
        else if (c[k].user_data == 62) got62++;
        else t_fail("completion of %llu\n", (unsigned long long)c[k].user_data);
      }
    }
    CHECK(rd == (int32_t)BIG || rd == -ECANCELED);
    CHECK_EQ(got62, 0); /* the TIMEOUT is untouched: still 10 s away */
    CHECK_EQ(ario_inflight(l), 1);
    s[0] = t_sqe(ARIO_OP_CANCEL, -1, 63);
    s[0].addr = 62;
    CHECK_EQ(ario_submit(l, s, 1), 1);
    CHECK_EQ(t_reap_n(l, c, 2), 2);
    CHECK_EQ(t_res_of(c, 2, 62), -ECANCELED);
    CHECK_EQ(ario_inflight(l), 0);
    if (lt == -EALREADY) return; /* the case: met */
  }
  if (ario_backend(l) != ARIO_BACKEND_IO_URING) t_fail("a running read never met its timeout\n");
}

/* CLOSE (and ario_close) of an fd a job reads: the close waits for the job,
 * so the number is not reused under it; the read is whole and right. */
static void close_races(ario_loop *l) {
  int32_t res[256];
  for (int round = 0; round < 10; round++) {
    int fd = open(path2, O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, "marker", 6, BIG - 6), 6);
    ario_sqe s[3] = {e_rw(ARIO_OP_READ, fd, bigbuf[0], BIG, 0, 10),
                     e_rw(ARIO_OP_READ, fd, bigbuf[1], BIG, 0, 11), t_sqe(ARIO_OP_CLOSE, fd, 12)};
    CHECK_EQ(ario_submit(l, s, 2), 2);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, 0);
    CHECK_EQ(ario_submit(l, s + 2, 1), 1);
    /* a new file may take the number only once it is closed */
    int other = open(path, O_RDONLY | O_CLOEXEC);
    reap_into(l, res, 3);
    CHECK_EQ(res[12], 0);
    for (int k = 10; k < 12; k++) {
      CHECK(res[k] == (int32_t)BIG || res[k] == -ECANCELED);
      if (res[k] == (int32_t)BIG) CHECK(!memcmp(bigbuf[k - 10] + BIG - 6, "marker", 6));
    }
    for (int k = 10; k < 12; k++) /* never another file's bytes */
      if (res[k] > 0) CHECK(bigbuf[k - 10][12345] == 0x5A && bigbuf[k - 10][BIG / 2] == 0x5A);
    close(other);
    CHECK(fcntl(fd, F_GETFD) < 0 || fd == other);
  }
  /* ario_close with a job running: it waits for the job, then closes */
  int fd = open(path2, O_RDONLY | O_CLOEXEC);
  ario_sqe s = e_rw(ARIO_OP_READ, fd, bigbuf[0], BIG, 0, 10);
  CHECK_EQ(ario_submit(l, &s, 1), 1);
  struct timespec ts = {0, 2000000};
  nanosleep(&ts, 0);
  CHECK_EQ(ario_close(l, fd), 0);
  CHECK(fcntl(fd, F_GETFD) < 0);
  reap_into(l, res, 1);
  CHECK_EQ(res[10], (int32_t)BIG);
  ario_cqe c[4];
  CHECK_EQ(ario_reap(l, c, 4, 0), 0);
  CHECK(fcntl(fd, F_GETFD) < 0);
}

/* ario_deinit with jobs running and queued: it waits for the running ones,
 * drops the rest, and a new loop in the same memory works. */
static ario_loop *deinit_in_flight(ario_loop *l) {
  occupy(l, 4);
  static unsigned char buf[32][64];
  ario_sqe q[32];
  for (int k = 0; k < 32; k++) q[k] = e_rw(ARIO_OP_READ, big_fd, buf[k], 64, 0, (uint64_t)k);
  CHECK_EQ(ario_submit(l, q, 32), 32);
  ario_deinit(l);
  l = t_loop(T_ENTRIES);
  char b[8];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  CHECK_EQ(run1(l, e_rw(ARIO_OP_READ, fd, b, 8, 0, 0)), 8);
  close(fd);
  return l;
}

/* A thread blocked in ario_wait() (the doorbell) wakes for a pool job. */
static void *waiter(void *arg) { return (void *)(intptr_t)ario_wait((ario_loop *)arg, 5000000000LL); }

static void wakes_waiter(ario_loop *l) {
  pthread_t t;
  char b[8];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  CHECK_EQ(pthread_create(&t, 0, waiter, l), 0);
  struct timespec ts = {0, 20000000};
  nanosleep(&ts, 0);
  ario_sqe s = e_rw(ARIO_OP_READ, fd, b, 8, 0, 7);
  int64_t t0 = ario_now();
  CHECK_EQ(ario_submit(l, &s, 1), 1);
  void *rc;
  pthread_join(t, &rc);
  CHECK_EQ((intptr_t)rc, 1);
  CHECK(ario_now() - t0 < 2000000000LL);
  int32_t res[256];
  reap_into(l, res, 1);
  CHECK_EQ(res[7], 8);
  close(fd);
}

int main(void) {
  srand(12345);
  for (int k = 0; k < 8; k++) CHECK((bigbuf[k] = malloc(BIG)) != 0);
  make_files();
  ario_loop *l = t_loop(T_ENTRIES);
  big_fd = open(path2, O_RDONLY | O_CLOEXEC);
  CHECK(big_fd >= 0);
  many_preads(l);
  timeout_slot_reused(l);
  write_read_back(l);
  chains(l);
  cancels(l);
  close_races(l);
  wakes_waiter(l);
  l = deinit_in_flight(l);
  ario_deinit(l);
  close(big_fd);
  for (int k = 0; k < 8; k++) free(bigbuf[k]);
  return T_EXIT_PASS;
}
#endif
