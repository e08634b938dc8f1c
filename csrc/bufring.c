/*
 * bufring.c: provided-buffer groups (ario.h's ario_buffers_*). The ring is
 * io_uring's layout in the caller's memory: the caller (ario_buffers_give)
 * writes entries and publishes the tail; the kernel, or on a readiness
 * backend RECV_MULTI (ops.c) through ario__buffers_next, consumes from the
 * head. A group in use by a RECV_MULTI cannot be unregistered, so nothing
 * writes into its buffers once ario_buffers_unregister returned 0.
 */
#include "ario_internal.h"

/* The tail overlays entry 0's resv (struct io_uring_buf_ring). */
#define TAIL(g) (&(g)->ring[0].resv)

static ario__bufgroup *group_of(ario_loop *l, uint32_t group) {
  return l && group < ARIO_BUFFER_GROUPS && l->groups[group].ring ? &l->groups[group] : 0;
}

ARIO_API int ario_buffers_register(ario_loop *l, uint32_t group, ario_buf *ring,
                                   uint32_t entries) {
  if (!l || group >= ARIO_BUFFER_GROUPS || !ring || !entries ||
      entries > ARIO_BUFFER_RING_MAX || (entries & (entries - 1)))
    return -EINVAL;
#if defined(__linux__) && defined(ARIO_HOST)
  if ((uintptr_t)ring & 4095u) return -EINVAL; /* the kernel maps it by pages */
#else
  if ((uintptr_t)ring & 7u) return -EINVAL;
#endif
  ario__bufgroup *g = &l->groups[group];
  if (g->ring) return -EEXIST;
  ring[0].resv = 0; /* the tail: empty */
  if (ARIO__COMPLETES(l)) {
    int rc = l->be->buffers(l, group, ring, entries);
    if (rc < 0) return rc;
  }
  g->ring = ring;
  g->mask = (uint16_t)(entries - 1u);
  g->head = 0;
  return 0;
}

ARIO_API int ario_buffers_unregister(ario_loop *l, uint32_t group) {
  ario__bufgroup *g = group_of(l, group);
  if (!g) return l && group < ARIO_BUFFER_GROUPS ? -ENOENT : -EINVAL;
  if (g->users) return -EBUSY;
  if (ARIO__COMPLETES(l)) {
    int rc = l->be->buffers(l, group, g->ring, 0);
    if (rc < 0) return rc;
  }
  g->ring = 0;
  return 0;
}

ARIO_API int ario_buffers_give(ario_loop *l, uint32_t group, uint64_t addr, uint32_t len,
                               uint32_t bid) {
  ario__bufgroup *g = group_of(l, group);
  if (!g) return l && group < ARIO_BUFFER_GROUPS ? -ENOENT : -EINVAL;
  if (!addr || !len || len > (uint32_t)INT32_MAX || bid > 0xFFFFu ||
      (sizeof(uintptr_t) < 8 && addr >> 32))
    return -EINVAL;
  uint16_t tail = *TAIL(g);
  ario_buf *b = &g->ring[tail & g->mask];
  b->addr = addr;
  b->len = len;
  b->bid = (uint16_t)bid;
  ARIO_STORE(TAIL(g), (uint16_t)(tail + 1u), __ATOMIC_RELEASE); /* the kernel reads it */
  return 0;
}

void ario__buffers_use(ario_loop *l, const ario__op *op, int delta) {
  if (op->op == ARIO_OP_RECV_MULTI && op->len < ARIO_BUFFER_GROUPS)
    l->groups[op->len].users = (uint16_t)(l->groups[op->len].users + delta);
}

const ario_buf *ario__buffers_next(ario_loop *l, uint32_t group) {
  ario__bufgroup *g = group_of(l, group);
  if (!g || g->head == ARIO_LOAD(TAIL(g), __ATOMIC_ACQUIRE)) return 0;
  return &g->ring[g->head & g->mask];
}

void ario__buffers_taken(ario_loop *l, uint32_t group) { l->groups[group].head++; }
