/* An fd-table slot that moves (backward-shift deletion when another fd is
 * forgotten) is registered again with the backend whenever ops wait on it,
 * even when they want no event: a POLL with an empty mask still waits for
 * ERR/HUP (epoll and poll lost it: it never completed). */
#include "test.h"
#include <fcntl.h>

/* The core's fd hash for a table of `cap` slots (ario.c fd_hash). */
static uint32_t home(int fd, uint32_t cap) { return ((uint32_t)fd * 2654435761u) & (cap - 1); }

int main(void) {
  ario_loop *l = t_loop(4);
  if (ario_backend(l) == ARIO_BACKEND_SELECT) return T_EXIT_SKIP; /* select has no HUP without IN */
  /* 4 entries + ARIO_RESERVED_SLOTS, two fd slots each, rounded up */
  uint32_t cap = 1;
  while (cap < 2 * (4 + ARIO_RESERVED_SLOTS)) cap <<= 1;
  int a = -1, b = -1;
  for (int x = 100; x < 400 && b < 0; x++)
    for (int y = x + 1; y < 400; y++)
      if (home(x, cap) == home(y, cap) && fcntl(x, F_GETFD) < 0 && fcntl(y, F_GETFD) < 0) {
        a = x;
        b = y;
        break;
      }
  CHECK(b > 0);
  int pa[2], pb[2];
  CHECK(ario_pipe(pa) == 0 && ario_pipe(pb) == 0);
  CHECK_EQ(dup2(pa[0], a), a);
  CHECK_EQ(dup2(pb[0], b), b);
  close(pa[0]);
  close(pb[0]);
  ario_cqe c[4];
  for (int round = 0; round < 2; round++) {
    ario_sqe e[2] = {t_sqe(ARIO_OP_POLL, a, 1), t_sqe(ARIO_OP_POLL, b, 2)};
    e[0].op_flags = ARIO_POLL_IN;
    e[1].op_flags = round ? ARIO_POLL_PRI : 0; /* no event it could get but HUP */
    CHECK_EQ(ario_submit(l, e, 2), 2); /* a takes the home slot, b the next */
    CHECK_EQ(ario_reap(l, c, 4, 1000000), 0);
    CHECK_EQ(ario_close(l, a), 0); /* a's slot goes: b's moves into it */
    CHECK_EQ(t_reap_n(l, c, 1), 1);
    CHECK_EQ(c[0].user_data, 1);
    CHECK_EQ(c[0].res, -ECANCELED);
    close(pb[1]); /* b's writer goes: HUP */
    int n = t_reap_n(l, c, 1);
    if (n != 1) t_fail("round %d: the POLL on the moved slot never completed\n", round);
    CHECK_EQ(c[0].user_data, 2);
    CHECK(c[0].res & ARIO_POLL_HUP);
    CHECK_EQ(ario_close(l, b), 0);
    CHECK(ario_pipe(pa) == 0 && ario_pipe(pb) == 0);
    CHECK_EQ(dup2(pa[0], a), a);
    CHECK_EQ(dup2(pb[0], b), b);
    close(pa[0]);
    close(pb[0]);
  }
  ario_deinit(l);
  return T_EXIT_PASS;
}
