/* Minimal <string.h> for freestanding MCU builds that have no libc headers
 * (zig cc's *-freestanding targets).  Implementations: scripts/mcu/libc/string.c.
 * Only what the ario core and the MCU tests use. */
#ifndef ARIO_MCU_SHIM_STRING_H
#define ARIO_MCU_SHIM_STRING_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
void *memcpy(void *__restrict dst, const void *__restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
#ifdef __cplusplus
}
#endif
#endif
