/*
 * sys.h: the OS headers behind ops.c, sock.c and the host backends.
 */
#ifndef ARIO_SYS_H
#define ARIO_SYS_H

#include "platform.h"

#if defined(ARIO_LWIP)
#include "lwip/sockets.h"
#include "lwip/inet.h"
#include <fcntl.h>
#include <unistd.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#endif

/* Makes a descriptor non-blocking and close-on-exec (and, where the
 * platform has it, free of SIGPIPE). Returns 0 or -errno. */
int ario__sys_prepare_fd(int fd);

/* Converts a timeout in ns (<0: none) to poll(2)'s milliseconds, rounding
 * up so a wait never ends before its deadline. */
int ario__ns_to_ms(int64_t ns);

#endif
