/*
 * platform.h: the one place that decides what the target offers.
 *
 *   ARIO_HOST     a POSIX host (Linux, macOS, BSD): sockets, threads
 *   ARIO_LWIP     lwIP / ESP-IDF sockets (select backend, no threads)
 *   ARIO_BARE     no OS at all: the MCU test harness supplies the I/O
 *
 * The backend built by default is chosen here too.
 */
#ifndef ARIO_PLATFORM_H
#define ARIO_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(ARIO_LWIP) && !defined(ARIO_BARE)
#define ARIO_HOST 1
#endif

#if defined(ARIO_HOST) || defined(ARIO_LWIP)
#include <errno.h>
#include <stdlib.h>
#endif

/* Errno values the core itself returns, for targets without errno.h
 * (Linux numbering, which is also what picolibc and lwIP use). */
#ifndef EAGAIN
#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSYS 38
#define ETIME 62
#define EALREADY 114
#define ECANCELED 125
#endif
#ifndef ETIME /* macOS has no ETIME; io_uring's value is reported as ETIME */
#define ETIME 62
#endif
#ifndef ECANCELED
#define ECANCELED 125
#endif
#ifndef EOPNOTSUPP /* files (OPENAT, FSYNC) off POSIX hosts, SOCKET without sockets */
#define EOPNOTSUPP 95
#endif

/* Atomics for the one cross-thread handshake (ario_wait() in another
 * thread). MCU builds run the loop in one thread and 32-bit cores have no
 * 64-bit atomics (they would be libatomic calls): plain accesses there. */
#if defined(ARIO_HOST)
#define ARIO_LOAD(p, order) __atomic_load_n(p, order)
#define ARIO_STORE(p, v, order) __atomic_store_n(p, v, order)
#else
#define ARIO_LOAD(p, order) (*(p))
#define ARIO_STORE(p, v, order) ((void)(*(p) = (v)))
#endif

/* ARIO_BARE: the harness's stream devices honour MSG_WAITALL (Linux value),
 * so a short RECV breaks a soft chain only with it, as on a host. */
#if defined(ARIO_BARE) && !defined(MSG_WAITALL)
#define MSG_WAITALL 0x100
#endif

/* Compact tables on every non-host build (ario_internal.h): 8-bit op
 * indexes (ARIO_MAX_ENTRIES 128), 16-bit descriptors in an fd table of
 * pow2(entries) slots. The host layout does not change. */
#if !defined(ARIO_HOST) && !defined(ARIO_SMALL)
#define ARIO_SMALL 1
#endif

/* Backend compiled by default: one switch. */
#if defined(ARIO_LWIP) && defined(ARIO_LWIP_POLL)
/* lwIP built without select (Debian's unix port): backend/lwip_poll.c
 * (lwip_poll) instead of backend/select.c; backend/poll.c is host-only */
#define ARIO_HAVE_POLL 1
#define ARIO_DEFAULT_BACKEND ARIO_BACKEND_POLL
#elif defined(ARIO_LWIP)
#define ARIO_HAVE_SELECT 1
#define ARIO_DEFAULT_BACKEND ARIO_BACKEND_SELECT
#elif defined(ARIO_BARE)
#define ARIO_DEFAULT_BACKEND ARIO_BACKEND_BARE /* the firmware's (tests: pipe_dev.c) */
#elif defined(__linux__)
#define ARIO_HAVE_IO_URING 1 /* falls back to epoll at run time */
#define ARIO_HAVE_EPOLL 1
#define ARIO_HAVE_POLL 1
#define ARIO_HAVE_SELECT 1
#define ARIO_DEFAULT_BACKEND ARIO_BACKEND_IO_URING
#elif defined(_WIN32)
#define ARIO_HAVE_WINDOWS 1
#define ARIO_DEFAULT_BACKEND ARIO_BACKEND_WINDOWS
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__)
#define ARIO_HAVE_KQUEUE 1
#define ARIO_HAVE_POLL 1
#define ARIO_HAVE_SELECT 1
#define ARIO_DEFAULT_BACKEND ARIO_BACKEND_KQUEUE
#else
#define ARIO_HAVE_POLL 1
#define ARIO_HAVE_SELECT 1
#define ARIO_DEFAULT_BACKEND ARIO_BACKEND_POLL
#endif

/* select backend capacity: descriptors numbered below this (compile time). */
#ifndef ARIO_SELECT_MAX_FD
#define ARIO_SELECT_MAX_FD 0 /* 0: FD_SETSIZE */
#endif

/* The headers the host's backends and doorbell thread build on. */
#if defined(ARIO_HOST) && defined(_WIN32)
#include <winsock2.h>
#include <windows.h>
#elif defined(ARIO_HOST)
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h> /* MSG_WAITALL: a short WAITALL RECV breaks a chain */
#endif

#endif
