/* Placeholder "core" used by scripts/cross.ts only while csrc/ does not exist:
 * a static completion ring with the same flavour of code as the real core
 * (no malloc, memset/memcpy, 64-bit user_data, a small call graph). */
#ifndef ARIO_PLACEHOLDER_H
#define ARIO_PLACEHOLDER_H
#include <stddef.h>
#include <stdint.h>
typedef struct { uint64_t user_data; int32_t res; uint32_t flags; } ario_ph_cqe;
void ario_ph_init(void);
int ario_ph_push(uint64_t user_data, int32_t res);
int ario_ph_reap(ario_ph_cqe *out, unsigned max);
uint64_t ario_ph_deadline(uint64_t now_ns, uint64_t timeout_ns, uint32_t hz);
#endif
