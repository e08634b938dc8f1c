/* ACCEPT_MULTI: one completion per connection flagged ARIO_CQE_F_MORE, a
 * last one without it; a full completion ring holds connections back
 * without losing one; cancel, CLOSE and errors end it; it refuses links;
 * its completions count for counted timeouts (as the kernel's CQEs do). */
#include "test.h"
#include <fcntl.h>

static struct sockaddr_in where;

static int listener(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t al = sizeof a;
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  CHECK(ls >= 0 && bind(ls, (void *)&a, sizeof a) == 0 && listen(ls, 128) == 0);
  CHECK(getsockname(ls, (void *)&a, &al) == 0);
  where = a;
  return ls;
}

static int dial(void) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(c >= 0 && connect(c, (void *)&where, sizeof where) == 0);
  return c;
}

/* Reaps (max per call) until `want` completions of user_data 1 came or the
 * last one did; checks each accepted fd, closes it, counts it in *fds. */
static int collect(ario_loop *l, int want, uint32_t max, int *fds, int *last_res) {
  ario_cqe c[64];
  int got = 0;
  for (int spins = 0; got < want && spins < 2000; spins++) {
    int n = ario_reap(l, c, max, 5 * 1000 * 1000);
    CHECK(n >= 0);
    for (int k = 0; k < n; k++) {
      CHECK_EQ(c[k].user_data, 1);
      if (!(c[k].flags & ARIO_CQE_F_MORE)) {
        *last_res = c[k].res;
        return got;
      }
      CHECK(c[k].res >= 0);
#if !defined(_WIN32) /* Winsock has no fcntl: the backend sets FIONBIO */
      CHECK(fcntl(c[k].res, F_GETFL) & O_NONBLOCK);
      CHECK(fcntl(c[k].res, F_GETFD) & FD_CLOEXEC);
#endif
      close(c[k].res);
      (*fds)++;
      got++;
    }
  }
  return got;
}

int main(void) {
  ario_cqe c[8];
  ario_sqe s[4];
  int accepted = 0, last = 1, clients[80];

  /* a small loop: 1 entry + 16 reserved slots, a ring of 32 */
  ario_loop *l = t_loop(1);
  int ls = listener();
  s[0] = t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 1);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  for (int k = 0; k < 5; k++) clients[k] = dial();
  CHECK_EQ(collect(l, 5, 64, &accepted, &last), 5);
  CHECK_EQ(last, 1); /* it goes on */
  CHECK_EQ(ario_inflight(l), 1);

  /* more connections than the ring holds, reaped without taking any: they
   * wait (in the backlog or the kernel's CQ), none is lost */
  for (int k = 5; k < 80; k++) clients[k] = dial();
  for (int k = 0; k < 20; k++) CHECK_EQ(ario_reap(l, c, 0, 1000 * 1000), 0);
  CHECK_EQ(collect(l, 75, 3, &accepted, &last), 75);
  CHECK_EQ(accepted, 80);
  for (int k = 0; k < 80; k++) close(clients[k]);

  /* a cancel by user_data ends it, after what came before */
  clients[0] = dial();
  s[0] = t_sqe(ARIO_OP_CANCEL, -1, 2);
  s[0].addr = 1;
  CHECK_EQ(collect(l, 1, 64, &accepted, &last), 1); /* the connection first */
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK(c[0].user_data == 2 && c[0].res == 0 && c[0].flags == 0);
  CHECK(c[1].user_data == 1 && c[1].res == -ECANCELED && c[1].flags == 0);
  CHECK_EQ(ario_inflight(l), 0);
  close(clients[0]);

  /* CLOSE of the listener ends it */
  s[0] = t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 1);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(ario_reap(l, c, 8, 0), 0);
  s[0] = t_sqe(ARIO_OP_CLOSE, ls, 3);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 1), -ECANCELED);
  CHECK_EQ(t_res_of(c, 2, 3), 0);
  CHECK(c[0].flags == 0 && c[1].flags == 0);
  ario_deinit(l);

  l = t_loop(T_ENTRIES);
  /* links: it may end a chain, not link on; it reads no address */
  ls = listener();
  s[0] = t_sqe(ARIO_OP_NOP, -1, 4);
  s[0].flags = ARIO_SQE_LINK;
  s[1] = t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 1);
  s[2] = t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 6);
  s[2].flags = ARIO_SQE_HARDLINK;
  s[3] = t_sqe(ARIO_OP_NOP, -1, 7);
  CHECK_EQ(ario_submit(l, s, 4), 4);
  CHECK_EQ(t_reap_n(l, c, 3), 3);
  CHECK_EQ(t_res_of(c, 3, 4), 0);
  CHECK_EQ(t_res_of(c, 3, 6), -EINVAL);
  CHECK_EQ(t_res_of(c, 3, 7), -ECANCELED);
  clients[0] = dial();
  CHECK_EQ(collect(l, 1, 8, &accepted, &last), 1); /* the one after the NOP goes on */
  close(clients[0]);
  s[0] = t_sqe(ARIO_OP_CANCEL, -1, 2);
  s[0].addr = 1;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 1), -ECANCELED);
  close(ls);
  s[0] = t_sqe(ARIO_OP_ACCEPT_MULTI, 3, 8);
  s[0].addr = t_addr(c);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK_EQ(c[0].res, -EINVAL);

  /* its completions count: a TIMEOUT of count 3 ends after 3 connections */
  ls = listener();
  s[0] = t_sqe(ARIO_OP_TIMEOUT, -1, 9);
  s[0].off = 5ull * 1000 * 1000 * 1000;
  s[0].len = 3;
  s[1] = t_sqe(ARIO_OP_ACCEPT_MULTI, ls, 1);
  CHECK_EQ(ario_submit(l, s, 2), 2);
  for (int k = 0; k < 3; k++) clients[k] = dial();
  int timed = 0, more = 0;
  for (int spins = 0; spins < 200 && !(timed && more == 3); spins++) {
    int n = ario_reap(l, c, 8, 10 * 1000 * 1000);
    for (int k = 0; k < n; k++) {
      if (c[k].user_data == 9) {
        CHECK_EQ(c[k].res, 0);
        CHECK_EQ(more, 3); /* after the third */
        timed = 1;
      } else {
        CHECK(c[k].user_data == 1 && (c[k].flags & ARIO_CQE_F_MORE) && c[k].res >= 0);
        close(c[k].res);
        more++;
      }
    }
  }
  CHECK(timed && more == 3);
  for (int k = 0; k < 3; k++) close(clients[k]);

#if !defined(_WIN32) /* WSAPoll reports nothing for a socket that neither listens nor connects */
  /* an error ends it: a socket that does not listen */
  int idle = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  s[0] = t_sqe(ARIO_OP_ACCEPT_MULTI, idle, 10);
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 1), 1);
  CHECK(c[0].user_data == 10 && c[0].res == -EINVAL && c[0].flags == 0);
  close(idle);
#endif
  s[0] = t_sqe(ARIO_OP_CANCEL, -1, 11);
  s[0].addr = 1;
  CHECK_EQ(ario_submit(l, s, 1), 1);
  CHECK_EQ(t_reap_n(l, c, 2), 2);
  CHECK_EQ(t_res_of(c, 2, 1), -ECANCELED);
  close(ls);
  CHECK_EQ(ario_inflight(l), 0);
  ario_deinit(l);
  return T_EXIT_PASS;
}
