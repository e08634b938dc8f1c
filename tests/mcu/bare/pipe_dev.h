/* pipe_dev.h: the I/O of the bare-metal MCU test harness (ARIO_BARE).
 *
 * In-memory pipes stand in for descriptors: each pipe is a byte FIFO of
 * PIPE_DEV_BUF bytes with a read end and a write end, and readiness like a
 * POSIX pipe (IN when bytes wait or the writer closed -> HUP; OUT when there
 * is room; ERR when the other end is gone). A pipe end also acts as a stream
 * socket for RECV/SEND (MSG_WAITALL honoured). pipe_dev.c provides what the
 * core needs from a platform under ARIO_BARE:
 *   ario__backend_bare     the readiness backend (vtable, ARIO_BACKEND_BARE)
 *   ario__try_io           non-blocking READ/WRITE/RECV/SEND/CLOSE/POLL
 *   ario_now               a simulated monotonic clock (ns)
 * and the public ario_pipe() / ario_close().
 *
 * The clock only moves when the loop would sleep: a reap that finds nothing
 * ready with a timeout advances it by that timeout (to the next timer at
 * most), so timer tests are exact and instant on any emulator. */
#ifndef PIPE_DEV_H
#define PIPE_DEV_H
#include <stdint.h>
#include "ario.h"

#define PIPE_DEV_PIPES 8
#define PIPE_DEV_BUF 64
#define PIPE_DEV_FD0 3 /* first descriptor number handed out */

/* Like write(2)/read(2) on a pipe end: count, or -EAGAIN/-EBADF/-EPIPE. */
int pipe_dev_write(int fd, const void *buf, uint32_t len);
int pipe_dev_read(int fd, void *buf, uint32_t len);
/* Moves the simulated clock forward. */
void pipe_dev_advance(int64_t ns);
/* Pipes open now (for leak checks). */
int pipe_dev_open_count(void);
#endif
