/* Integer division helpers missing from Debian's libgcc for xtensa-lx106.
 *
 * The lx106 core has a 32-bit multiplier (MULL) but no divider, so gcc emits
 * calls to __udivsi3 & co.  Debian's gcc-xtensa-lx106 libgcc.a ships
 * __modsi3/__moddi3/__udivmoddi4 but not __udivsi3, __umodsi3, __divsi3,
 * __udivdi3, __umoddi3, __divdi3, __muldi3 or __umulsidi3 (on a real ESP8266 the boot
 * ROM exports them and the SDK linker script maps them).  These plain
 * shift-and-subtract versions are only for the emulated test images.  They
 * use no division and no widening multiply themselves (only 32-bit MULL),
 * so they never call back into the helpers they define. */
#include <stdint.h>

typedef unsigned int su_int;
typedef int si_int;
typedef unsigned long long du_int;
typedef long long di_int;

static su_int udivmod32(su_int n, su_int d, su_int *rem) {
  su_int q = 0, r = 0;
  if (d == 0) { /* undefined behaviour in C; keep it deterministic */
    if (rem) *rem = n;
    return 0xFFFFFFFFu;
  }
  for (int i = 31; i >= 0; i--) {
    r = (r << 1) | ((n >> i) & 1u);
    if (r >= d) { r -= d; q |= 1u << i; }
  }
  if (rem) *rem = r;
  return q;
}

static du_int udivmod64(du_int n, du_int d, du_int *rem) {
  du_int q = 0, r = 0;
  if (d == 0) {
    if (rem) *rem = n;
    return ~(du_int)0;
  }
  if ((d >> 32) == 0 && (n >> 32) == 0) {
    su_int r32;
    q = udivmod32((su_int)n, (su_int)d, &r32);
    if (rem) *rem = r32;
    return q;
  }
  for (int i = 63; i >= 0; i--) {
    r = (r << 1) | ((n >> i) & 1u);
    if (r >= d) { r -= d; q |= (du_int)1 << i; }
  }
  if (rem) *rem = r;
  return q;
}

su_int __udivsi3(su_int n, su_int d) { return udivmod32(n, d, 0); }
su_int __umodsi3(su_int n, su_int d) { su_int r; udivmod32(n, d, &r); return r; }
si_int __divsi3(si_int a, si_int b) {
  su_int ua = a < 0 ? 0u - (su_int)a : (su_int)a;
  su_int ub = b < 0 ? 0u - (su_int)b : (su_int)b;
  su_int q = udivmod32(ua, ub, 0);
  return (si_int)(((a < 0) != (b < 0)) ? 0u - q : q);
}
du_int __udivdi3(du_int n, du_int d) { return udivmod64(n, d, 0); }
du_int __umoddi3(du_int n, du_int d) { du_int r; udivmod64(n, d, &r); return r; }
di_int __divdi3(di_int a, di_int b) {
  du_int ua = a < 0 ? 0u - (du_int)a : (du_int)a;
  du_int ub = b < 0 ? 0u - (du_int)b : (du_int)b;
  du_int q = udivmod64(ua, ub, 0);
  return (di_int)(((a < 0) != (b < 0)) ? 0u - q : q);
}

/* 32x32 -> 64 multiply from 16-bit halves (MULL gives only the low word). */
du_int __umulsidi3(su_int a, su_int b) {
  su_int al = a & 0xFFFFu, ah = a >> 16, bl = b & 0xFFFFu, bh = b >> 16;
  su_int ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  su_int mid = (ll >> 16) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  su_int lo = (ll & 0xFFFFu) | (mid << 16);
  su_int hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
  return ((du_int)hi << 32) | lo;
}

/* 64 x 64 -> 64 multiply (also missing): low product plus the cross terms. */
du_int __muldi3(du_int a, du_int b) {
  su_int al = (su_int)a, ah = (su_int)(a >> 32), bl = (su_int)b, bh = (su_int)(b >> 32);
  du_int r = __umulsidi3(al, bl);
  r += (du_int)(al * bh + ah * bl) << 32;
  return r;
}
