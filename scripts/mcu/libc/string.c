/* Tiny libc shims for bare-metal MCU test images (no libc is linked).
 * Compiled with -ffreestanding -fno-builtin (and, for gcc,
 * -fno-tree-loop-distribute-patterns) so the loops below are not turned back
 * into calls to themselves.  Deliberately simple: word-at-a-time fast paths
 * would only matter for benchmarks, not for correctness tests. */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *__restrict dst, const void *__restrict src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
    while (n >= 4) {
      *(uint32_t *)(void *)d = *(const uint32_t *)(const void *)s;
      d += 4; s += 4; n -= 4;
    }
  }
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  if (d == s || n == 0) return dst;
  if (d < s || d >= s + n) {
    while (n--) *d++ = *s++;
  } else {
    d += n; s += n;
    while (n--) *--d = *--s;
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = (unsigned char *)dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  for (; n; n--, x++, y++)
    if (*x != *y) return (int)*x - (int)*y;
  return 0;
}

size_t strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (int)(unsigned char)*a - (int)(unsigned char)*b;
}
