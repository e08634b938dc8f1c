#include <string.h>
#include "ario_placeholder.h"

#define RING 32u
static ario_ph_cqe ring[RING];
static unsigned head, tail;

void ario_ph_init(void) {
  memset(ring, 0, sizeof ring);
  head = tail = 0;
}

static int full(void) { return tail - head >= RING; }

int ario_ph_push(uint64_t user_data, int32_t res) {
  ario_ph_cqe c;
  if (full()) return -1;
  c.user_data = user_data;
  c.res = res;
  c.flags = 0;
  memcpy(&ring[tail++ % RING], &c, sizeof c);
  return 0;
}

static unsigned copy_out(ario_ph_cqe *out, unsigned n) {
  ario_ph_cqe tmp[4];
  unsigned done = 0;
  while (done < n) {
    unsigned k = n - done < 4 ? n - done : 4;
    for (unsigned i = 0; i < k; i++) tmp[i] = ring[head++ % RING];
    memcpy(out + done, tmp, k * sizeof tmp[0]);
    done += k;
  }
  return done;
}

int ario_ph_reap(ario_ph_cqe *out, unsigned max) {
  unsigned avail = tail - head;
  return (int)copy_out(out, avail < max ? avail : max);
}

uint64_t ario_ph_deadline(uint64_t now_ns, uint64_t timeout_ns, uint32_t hz) {
  return now_ns / 1000u + timeout_ns * hz / 1000000000u;
}
