/*
 * lwipopts.h for the compile check of ario's lwIP profile (ARIO_LWIP)
 * against upstream lwIP 2.1.3 headers (Debian's liblwip-dev). It mirrors the
 * ESP-IDF defaults that matter to ario (components/lwip/port/include/
 * lwipopts.h with a default sdkconfig), not Debian's unix port:
 *
 *   - sockets with the BSD names as macros (LWIP_COMPAT_SOCKETS 1), the
 *     descriptor calls read/write/close/fcntl/select left to the C library
 *     (ESP-IDF's VFS: LWIP_POSIX_SOCKETS_IO_NAMES 0);
 *   - select on (LWIP_SOCKET_SELECT 1), poll on as well;
 *   - CONFIG_LWIP_MAX_SOCKETS = 10 sockets, numbered from
 *     LWIP_SOCKET_OFFSET = FD_SETSIZE - 10 (ESP-IDF puts them at the top of
 *     newlib's 64-descriptor fd_set: 54..63; here glibc's FD_SETSIZE);
 *   - IPv4 + IPv6, TCP, UDP, loopback on the netif (LWIP_NETIF_LOOPBACK),
 *     the system's struct timeval (LWIP_TIMEVAL_PRIVATE 0, from arch/cc.h).
 *
 * Only headers are compiled against it: nothing here is linked.
 */
#ifndef ARIO_TEST_LWIPOPTS_H
#define ARIO_TEST_LWIPOPTS_H

/* ESP-IDF's newlib declares clock_gettime(CLOCK_MONOTONIC) (esp_timer
 * behind it); the picolibc of the lx106 compile check does under these. */
#if !defined(__linux__) && !defined(_POSIX_TIMERS)
#define _POSIX_TIMERS 1
#define _POSIX_MONOTONIC_CLOCK 200112L
#endif
#include <sys/select.h> /* FD_SETSIZE, fd_set: newlib's on ESP-IDF */

#define NO_SYS 0
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
#define LWIP_COMPAT_SOCKETS 1
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_SELECT 1
#define LWIP_SOCKET_POLL 1
#define LWIP_MAX_SOCKETS_IDF 10 /* CONFIG_LWIP_MAX_SOCKETS */
#define MEMP_NUM_NETCONN LWIP_MAX_SOCKETS_IDF
#define LWIP_SOCKET_OFFSET (FD_SETSIZE - LWIP_MAX_SOCKETS_IDF)

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_DNS 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_SO_RCVTIMEO 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_SO_RCVBUF 1
#define LWIP_TCP_KEEPALIVE 1
#define SO_REUSE 1
#define LWIP_TCPIP_CORE_LOCKING 1
#define LWIP_NETIF_API 1
#define TCP_MSS 1440
#define LWIP_STATS 0

#endif
