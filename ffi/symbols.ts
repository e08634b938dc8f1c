/**
 * The whole C ABI of `csrc/include/ario.h` as Deno sees it: the only symbol
 * table. `tests/abi_test.ts` checks it against the header.
 *
 * @module
 */

/** Symbols of libario, each parameter annotated with its C type. */
export const symbols = {
  // size_t ario_mem_size(const ario_params *params)
  ario_mem_size: { parameters: ["buffer"], result: "usize" },
  // int ario_init(void *mem, size_t mem_len, const ario_params *params)
  ario_init: { parameters: ["pointer", "usize", "buffer"], result: "i32" },
  // void ario_deinit(ario_loop *loop)
  ario_deinit: { parameters: ["pointer"], result: "void" },
  // int ario_backend(const ario_loop *loop)
  ario_backend: { parameters: ["pointer"], result: "i32" },
  // int ario_submit(ario_loop *loop, const ario_sqe *sqes, uint32_t n)
  ario_submit: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // int ario_reap(ario_loop *loop, ario_cqe *out, uint32_t max, int64_t timeout_ns)
  ario_reap: { parameters: ["pointer", "buffer", "u32", "i64"], result: "i32" },
  // uint32_t ario_inflight(const ario_loop *loop)
  ario_inflight: { parameters: ["pointer"], result: "u32" },
  // int64_t ario_now(void)
  ario_now: { parameters: [], result: "i64" },
  // int ario_wait(ario_loop *loop, int64_t timeout_ns), blocking: run off-thread
  ario_wait: { parameters: ["pointer", "i64"], result: "i32", nonblocking: true },
  // void ario_wake(ario_loop *loop)
  ario_wake: { parameters: ["pointer"], result: "void" },
  // int ario_bell_start(ario_loop *loop, void (*bell)(void))
  ario_bell_start: { parameters: ["pointer", "function"], result: "i32" },
  // void ario_set_timer_lead(ario_loop *loop, int64_t lead_ns)
  ario_set_timer_lead: { parameters: ["pointer", "i64"], result: "void" },
  // int64_t ario_timer_due_in(const ario_loop *loop)
  ario_timer_due_in: { parameters: ["pointer"], result: "i64" },
  // void ario_precise_waits(void)
  ario_precise_waits: { parameters: [], result: "void" },
  // void ario_bell_arm(ario_loop *loop)
  ario_bell_arm: { parameters: ["pointer"], result: "void" },
  // int ario_bell_stop(ario_loop *loop)
  ario_bell_stop: { parameters: ["pointer"], result: "i32" },
  // int ario_bell_exiting(int status)
  ario_bell_exiting: { parameters: ["i32"], result: "i32" },
  // int ario_buffers_register(ario_loop *loop, uint32_t group, ario_buf *ring, uint32_t entries)
  ario_buffers_register: { parameters: ["pointer", "u32", "pointer", "u32"], result: "i32" },
  // int ario_buffers_unregister(ario_loop *loop, uint32_t group)
  ario_buffers_unregister: { parameters: ["pointer", "u32"], result: "i32" },
  // int ario_buffers_give(ario_loop *loop, uint32_t group, uint64_t addr, uint32_t len, uint32_t bid)
  ario_buffers_give: { parameters: ["pointer", "u32", "u64", "u32", "u32"], result: "i32" },
  // void *ario_mem_alloc(size_t size)
  ario_mem_alloc: { parameters: ["usize"], result: "pointer" },
  // void ario_mem_free(void *mem)
  ario_mem_free: { parameters: ["pointer"], result: "void" },
  // int ario_socket(int domain, int type, int protocol)
  ario_socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // int ario_socketpair(int domain, int type, int protocol, int32_t fds[2])
  ario_socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  // int ario_pidfd_open(int pid)
  ario_pidfd_open: { parameters: ["i32"], result: "i32" },
  // int ario_bind(int fd, const void *addr, uint32_t addrlen)
  ario_bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // int ario_listen(int fd, int backlog)
  ario_listen: { parameters: ["i32", "i32"], result: "i32" },
  // int ario_getsockname(int fd, void *addr, uint32_t *addrlen)
  ario_getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // int ario_getpeername(int fd, void *addr, uint32_t *addrlen)
  ario_getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // int ario_setsockopt(int fd, int level, int name, const void *val, uint32_t len)
  ario_setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  // int ario_getsockopt(int fd, int level, int name, void *val, uint32_t *len)
  ario_getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // int ario_close(ario_loop *loop, int fd)
  ario_close: { parameters: ["pointer", "i32"], result: "i32" },
  // int ario_set_nonblocking(int fd, int on)
  ario_set_nonblocking: { parameters: ["i32", "i32"], result: "i32" },
  // int ario_pipe(int32_t fds[2])
  ario_pipe: { parameters: ["buffer"], result: "i32" },
  // int ario_pipe_size(int fd, uint32_t size)
  ario_pipe_size: { parameters: ["i32", "u32"], result: "i32" },
  // int ario_sockaddr_ip(void *out, uint32_t cap, const char *ip, uint32_t port, uint32_t scope_id)
  ario_sockaddr_ip: { parameters: ["buffer", "u32", "buffer", "u32", "u32"], result: "i32" },
  // int ario_sockaddr_unix(void *out, uint32_t cap, const uint8_t *path, uint32_t path_len)
  ario_sockaddr_unix: { parameters: ["buffer", "u32", "buffer", "u32"], result: "i32" },
  // int ario_sockaddr_decode(const void *addr, uint32_t addrlen, char *text, uint32_t text_cap, uint32_t *port)
  ario_sockaddr_decode: {
    parameters: ["buffer", "u32", "buffer", "u32", "buffer"],
    result: "i32",
  },
  // int ario_sockaddr_link(void *out, uint32_t cap, const ario_link_addr *la)
  ario_sockaddr_link: { parameters: ["buffer", "u32", "buffer"], result: "i32" },
  // int ario_sockaddr_link_decode(const void *addr, uint32_t addrlen, ario_link_addr *la)
  ario_sockaddr_link_decode: { parameters: ["buffer", "u32", "buffer"], result: "i32" },
  // int ario_resolve(const char *host, int family, uint8_t *out, uint32_t cap), from the JS thread
  ario_resolve: { parameters: ["buffer", "i32", "buffer", "u32"], result: "i32" },
  // the same off the JS thread: host and out are C memory (ario_mem_alloc), which outlives a Worker
  ario_resolve_async: {
    name: "ario_resolve",
    parameters: ["pointer", "i32", "pointer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  // int ario_constant(const char *name, int64_t *value)
  ario_constant: { parameters: ["buffer", "buffer"], result: "i32" },
  // const char *ario_errno_name(int err)
  ario_errno_name: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded library's callable symbols. */
export type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
