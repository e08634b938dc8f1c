/*
 * backends.c: the backends this build has, and which one a loop runs
 * (ario_params.backend, else ARIO_BACKEND in the environment, else the
 * build's default).
 */
#include "ario_internal.h"

static const ario__backend *backend_by_id(uint32_t id) {
  switch (id) {
#if defined(ARIO_HAVE_IO_URING)
  case ARIO_BACKEND_IO_URING: return &ario__backend_io_uring;
#endif
#if defined(ARIO_HAVE_KQUEUE)
  case ARIO_BACKEND_KQUEUE: return &ario__backend_kqueue;
#endif
#if defined(ARIO_HAVE_WINDOWS)
  case ARIO_BACKEND_WINDOWS: return &ario__backend_windows;
#endif
#if defined(ARIO_HAVE_EPOLL)
  case ARIO_BACKEND_EPOLL: return &ario__backend_epoll;
#endif
#if defined(ARIO_HAVE_POLL)
  case ARIO_BACKEND_POLL: return &ario__backend_poll;
#endif
#if defined(ARIO_HAVE_SELECT)
  case ARIO_BACKEND_SELECT: return &ario__backend_select;
#endif
#if defined(ARIO_HAVE_SIM)
  case ARIO_BACKEND_SIM: return &ario__backend_sim;
#endif
#if defined(ARIO_BARE)
  case ARIO_BACKEND_BARE: return &ario__backend_bare;
#endif
  default: return 0;
  }
}

/* ARIO_BACKEND=io_uring|epoll|poll|select|kqueue|windows|sim in the
 * environment overrides the default (and, like a named backend in
 * ario_params, disables the silent fallback). */
static uint32_t backend_from_env(void) {
#if defined(ARIO_HOST)
  const char *s = getenv("ARIO_BACKEND");
  if (!s || !*s) return ARIO_BACKEND_DEFAULT;
  if (!strcmp(s, "io_uring")) return ARIO_BACKEND_IO_URING;
  if (!strcmp(s, "epoll")) return ARIO_BACKEND_EPOLL;
  if (!strcmp(s, "poll")) return ARIO_BACKEND_POLL;
  if (!strcmp(s, "select")) return ARIO_BACKEND_SELECT;
  if (!strcmp(s, "kqueue")) return ARIO_BACKEND_KQUEUE;
  if (!strcmp(s, "windows")) return ARIO_BACKEND_WINDOWS;
  if (!strcmp(s, "sim")) return ARIO_BACKEND_SIM;
#endif
  return ARIO_BACKEND_DEFAULT;
}

static uint32_t resolve_backend(const ario_params *p, int *named) {
  uint32_t id = p && p->backend != ARIO_BACKEND_DEFAULT ? p->backend
                                                        : backend_from_env();
  if (named) *named = id != ARIO_BACKEND_DEFAULT;
  return id == ARIO_BACKEND_DEFAULT ? ARIO_DEFAULT_BACKEND : id;
}

const ario__backend *ario__backend_for(const ario_params *p, int *named) {
  return backend_by_id(resolve_backend(p, named));
}
