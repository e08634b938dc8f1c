/*
 * bell.c: the doorbell thread that wakes an owner thread (Deno's JS thread)
 * which cannot block. The owner arms the bell after reaping everything; the
 * thread waits with ario_wait() and calls bell() once. bell() may block
 * until the owner runs it (Deno's thread-safe callbacks do), so stopping
 * refuses, rather than deadlocks, while the thread is inside it.
 */
#include "ario_internal.h"
#include "sys.h"

#if defined(ARIO_HOST)
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#if defined(_WIN32)
/* The POSIX thread calls below in Win32 terms: an SRW lock, a condition
 * variable, a thread handle, a one-time initialisation. */
#define pthread_mutex_init(m, attr) InitializeSRWLock(m)
#define pthread_mutex_destroy(m) ((void)(m))
#define pthread_mutex_lock(m) AcquireSRWLockExclusive(m)
#define pthread_mutex_unlock(m) ReleaseSRWLockExclusive(m)
#define pthread_cond_init(c, attr) InitializeConditionVariable(c)
#define pthread_cond_destroy(c) ((void)(c))
#define pthread_cond_wait(c, m) SleepConditionVariableSRW(c, m, INFINITE, 0)
#define pthread_cond_signal(c) WakeConditionVariable(c)
#define pthread_cond_broadcast(c) WakeAllConditionVariable(c)
#define pthread_create(t, attr, fn, arg) \
  ((*(t) = CreateThread(0, 0, bell_thread, arg, 0, 0)) != 0 ? 0 : EAGAIN)
#define pthread_join(t, ret) (WaitForSingleObject(t, INFINITE), CloseHandle(t))
typedef INIT_ONCE pthread_once_t;
#define PTHREAD_ONCE_INIT INIT_ONCE_STATIC_INIT
static BOOL CALLBACK run_once(PINIT_ONCE once, PVOID fn, PVOID *ctx) {
  (void)once, (void)ctx;
  ((void (*)(void))fn)();
  return TRUE;
}
#define pthread_once(o, fn) InitOnceExecuteOnce(o, run_once, (PVOID)(fn), 0)
#endif

/* Threads inside bell() (or committed to entering it) right now, the exit
 * status an uncaught error is about to end the process with (-1: none), and
 * whether exit() has begun. While either says the process is dying, no
 * thread enters bell(): Deno's runtime is being torn down under it.
 *
 * Entering is Dekker-style against ario_bell_exiting(): the thread adds
 * itself to `ringing`, then loads `exit_hint`; the owner stores
 * `exit_hint`, then loads `ringing`. So either the thread sees the hint and
 * backs out, or the owner sees the thread (and must not let the runtime be
 * torn down under it: Deno.exit() from JS is safe, see reactor.ts), or
 * both; never neither. */
static int ringing;
static int exit_hint = -1;
static int process_exiting;
static pthread_once_t exit_hook_once = PTHREAD_ONCE_INIT;

/* At exit, a thread blocked inside a bell() its owner will never run
 * (Deno's thread-safe callbacks block until JS runs them) would wake into
 * a runtime being torn down and crash the process. From here on no thread
 * enters bell(); when the owner said the process is dying of an uncaught
 * error and a thread is still inside, end it here with that status. */
static void exit_hook(void) {
  __atomic_store_n(&process_exiting, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&exit_hint, __ATOMIC_SEQ_CST) >= 0 &&
      __atomic_load_n(&ringing, __ATOMIC_SEQ_CST) > 0)
    _exit(exit_hint);
}

/* Commits the calling thread to entering bell(), unless the process is
 * dying (then it must not; see above). */
static int may_ring(void) {
  __atomic_add_fetch(&ringing, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&exit_hint, __ATOMIC_SEQ_CST) < 0 &&
      !__atomic_load_n(&process_exiting, __ATOMIC_SEQ_CST))
    return 1;
  __atomic_sub_fetch(&ringing, 1, __ATOMIC_SEQ_CST);
  return 0;
}

/* Waits on the bell's condition for at most `ms` (b->mu held). */
static void wait_ms(ario__bell_state *b, long ms) {
#if defined(_WIN32)
  SleepConditionVariableSRW(&b->cv, &b->mu, (DWORD)ms, 0);
#else
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += ms * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&b->cv, &b->mu, &until);
#endif
}

static void install_exit_hook(void) { atexit(exit_hook); }

ARIO_API int ario_bell_exiting(int status) {
  __atomic_store_n(&exit_hint, status, __ATOMIC_SEQ_CST);
  return __atomic_load_n(&ringing, __ATOMIC_SEQ_CST);
}

static void *bell_main(void *arg) {
  ario_loop *l = (ario_loop *)arg;
  ario__bell_state *b = &l->bell;
  ario_precise_waits(); /* timer wake-ups on time */
  pthread_mutex_lock(&b->mu);
  for (;;) {
    while (!b->armed && !b->stopping) pthread_cond_wait(&b->cv, &b->mu);
    if (b->stopping) break;
    pthread_mutex_unlock(&b->mu);
    ario_wait(l, -1);
    pthread_mutex_lock(&b->mu);
    if (b->stopping) break;
    if (!b->armed) continue;
    if (!may_ring()) {
      /* The owner is dying (or says so: it may yet survive, e.g. an error
       * event it cancelled, and withdraw). Stay armed and look again. */
      wait_ms(b, 10);
      continue;
    }
    b->armed = 0;
    b->in_bell = 1;
    pthread_mutex_unlock(&b->mu);
    b->bell();
    __atomic_sub_fetch(&ringing, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&b->mu);
    b->in_bell = 0;
    pthread_cond_broadcast(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  return 0;
}

#if defined(_WIN32)
static DWORD WINAPI bell_thread(LPVOID l) {
  bell_main(l);
  return 0;
}
#endif

ARIO_API int ario_bell_start(ario_loop *l, void (*bell)(void)) {
  ario__bell_state *b = &l->bell;
  if (!bell) return -EINVAL;
  if (b->running) return -EALREADY;
  pthread_mutex_init(&b->mu, 0);
  pthread_cond_init(&b->cv, 0);
  b->bell = bell;
  b->armed = b->stopping = b->in_bell = 0;
  pthread_once(&exit_hook_once, install_exit_hook);
  int rc = pthread_create(&b->thread, 0, bell_main, l);
  if (rc) return -rc;
  b->running = 1;
  return 0;
}

ARIO_API void ario_bell_arm(ario_loop *l) {
  ario__bell_state *b = &l->bell;
  pthread_mutex_lock(&b->mu);
  if (!b->armed) {
    b->armed = 1;
    pthread_cond_signal(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
}

ARIO_API int ario_bell_stop(ario_loop *l) {
  ario__bell_state *b = &l->bell;
  if (!b->running) return 0;
  pthread_mutex_lock(&b->mu);
  b->stopping = 1; /* from here on the thread never enters bell() */
  /* The thread may be on its way out of a bell() the owner already ran:
   * give it a moment. If the owner has not run it, it cannot return now. */
  for (int i = 0; b->in_bell && i < 50; i++) wait_ms(b, 1);
  if (b->in_bell) {
    pthread_mutex_unlock(&b->mu);
    return -EBUSY;
  }
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  ario_wake(l);
  pthread_join(b->thread, 0);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  b->running = 0;
  return 0;
}
#else
ARIO_API int ario_bell_start(ario_loop *l, void (*bell)(void)) {
  (void)l;
  (void)bell;
  return -ENOSYS;
}
ARIO_API void ario_bell_arm(ario_loop *l) { (void)l; }
ARIO_API int ario_bell_exiting(int status) {
  (void)status;
  return 0;
}
ARIO_API int ario_bell_stop(ario_loop *l) {
  (void)l;
  return 0;
}
#endif

/* Timer leads serve the doorbell: they live beside it (hosts and lwIP). */
ARIO_API void ario_set_timer_lead(ario_loop *l, int64_t lead_ns) {
#if defined(ARIO_HOST)
  if (l) l->timer_lead = lead_ns > 0 ? lead_ns : 0;
#else /* no doorbell thread to ring early */
  (void)l;
  (void)lead_ns;
#endif
}

ARIO_API int64_t ario_timer_due_in(const ario_loop *l) {
  if (!l) return INT64_MAX;
  int64_t d = l->deadline; /* the earliest timer (publish_deadline), the owner's own */
  if (d == INT64_MAX) return INT64_MAX;
  int64_t until = d - ario_now();
  return until > 0 ? until : 0;
}

ARIO_API void ario_precise_waits(void) {
#if defined(ARIO_HOST) && defined(__linux__) && defined(PR_SET_TIMERSLACK)
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
#endif
}
