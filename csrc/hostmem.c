/*
 * hostmem.c: ario_mem_alloc / ario_mem_free, the C-owned memory of a host
 * binding (loop memory, I/O buffers the kernel writes). Not part of the
 * core: microcontroller builds leave this file out, and the core never
 * calls it.
 */
#include "ario_internal.h"

#if defined(ARIO_HOST)
#include <stdlib.h>
#include <string.h>

ARIO_API void *ario_mem_alloc(size_t size) {
  if (size == 0 || size > ((size_t)1 << 40)) return NULL;
  size_t align = size >= 4096u ? 4096u : 64u; /* a page: a provided-buffer ring (ario.h) */
  size_t rounded = (size + align - 1u) & ~(align - 1u);
#if defined(_WIN32)
  void *p = _aligned_malloc(rounded, align);
#else
  void *p = aligned_alloc(align, rounded);
#endif
  if (p) memset(p, 0, rounded);
  return p;
}

ARIO_API void ario_mem_free(void *mem) {
#if defined(_WIN32)
  _aligned_free(mem);
#else
  free(mem);
#endif
}
#endif
