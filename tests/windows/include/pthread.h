/*
 * The part of POSIX threads the C tests use, over Win32 threads, SRW locks
 * and condition variables (zig's mingw has no winpthreads).
 */
#ifndef ARIO_WIN_PTHREAD_H
#define ARIO_WIN_PTHREAD_H
#include "ario_win_compat.h"
#include <process.h>

typedef HANDLE pthread_t;
typedef SRWLOCK pthread_mutex_t;
typedef CONDITION_VARIABLE pthread_cond_t;
#define PTHREAD_MUTEX_INITIALIZER SRWLOCK_INIT
#define PTHREAD_COND_INITIALIZER CONDITION_VARIABLE_INIT

struct ario_win_thread {
  void *(*fn)(void *);
  void *arg;
};
static unsigned __stdcall ario_win_thread_main(void *p) {
  struct ario_win_thread t = *(struct ario_win_thread *)p;
  free(p);
  t.fn(t.arg);
  return 0;
}
static inline int pthread_create(pthread_t *t, const void *attr, void *(*fn)(void *), void *arg) {
  struct ario_win_thread *s = malloc(sizeof *s);
  (void)attr;
  if (!s) return ENOMEM;
  s->fn = fn, s->arg = arg;
  *t = (HANDLE)_beginthreadex(0, 0, ario_win_thread_main, s, 0, 0);
  if (!*t) {
    free(s);
    return EAGAIN;
  }
  return 0;
}
static inline int pthread_join(pthread_t t, void **ret) {
  (void)ret;
  WaitForSingleObject(t, INFINITE);
  CloseHandle(t);
  return 0;
}
static inline int pthread_mutex_lock(pthread_mutex_t *m) {
  AcquireSRWLockExclusive(m);
  return 0;
}
static inline int pthread_mutex_unlock(pthread_mutex_t *m) {
  ReleaseSRWLockExclusive(m);
  return 0;
}
static inline int pthread_cond_signal(pthread_cond_t *c) {
  WakeConditionVariable(c);
  return 0;
}
/* Until the CLOCK_REALTIME time `until`; ETIMEDOUT when it passed. */
static inline int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                         const struct timespec *until) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long long ms = (until->tv_sec - now.tv_sec) * 1000LL + (until->tv_nsec - now.tv_nsec) / 1000000;
  if (ms < 0) ms = 0;
  return SleepConditionVariableSRW(c, m, (DWORD)ms, 0) ? 0 : ETIMEDOUT;
}
#endif
