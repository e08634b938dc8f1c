/*
 * echo_main.c: a TCP echo server on the ario reactor, written for firmware
 * (ESP-IDF + lwIP, the csrc/idf component) and compiled on a POSIX host too
 * (tests/mcu/firmware-compile.sh builds and runs it against the host library).
 *
 * Sockets are made with the platform's own calls (lwIP's socket/bind/listen
 * on the chip); everything after that is reactor ops: ACCEPT, RECV, SEND,
 * CLOSE submitted with ario_submit() and completed by ario_reap(). No heap:
 * the loop lives in a static array, the connections in a static table.
 */
#include <stdint.h>
#include <string.h>
#include "ario.h"

#if defined(ESP_PLATFORM)
#include "lwip/sockets.h"
#include "esp_err.h"
#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "nvs_flash.h"
#include "protocol_examples_common.h"
#define LOG(...) ESP_LOGI("echo", __VA_ARGS__)
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#define LOG(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr))
#endif

#define ENTRIES 16 /* ops in flight: 1 accept + 2 per connection, with room */
#define MAX_CONN 4
#define BUF_LEN 256

/* Static loop memory: ARIO_LOOP_STATIC on MCU builds (ARIO_LWIP/ARIO_BARE,
 * exact size at compile time); a host build sizes it generously. */
#if defined(ARIO_LOOP_STATIC)
ARIO_LOOP_STATIC(loop_mem, ENTRIES);
#else
static _Alignas(16) unsigned char loop_mem[64 * 1024];
#endif

enum { TAG_ACCEPT = 1, TAG_RECV, TAG_SEND, TAG_CLOSE };
#define UD(tag, slot) ((uint64_t)(tag) << 8 | (uint64_t)(slot))

typedef struct conn {
  int32_t fd; /* -1: free */
  uint32_t len, sent;
  uint8_t buf[BUF_LEN];
} conn;

static conn conns[MAX_CONN];
static ario_sqe pending[ENTRIES];
static uint32_t npending;

static void queue(uint8_t op, int32_t fd, uint64_t ud, void *buf, uint32_t len) {
  ario_sqe *e = &pending[npending++];
  memset(e, 0, sizeof *e);
  e->op = op;
  e->fd = fd;
  e->addr = (uint64_t)(uintptr_t)buf;
  e->len = len;
  e->user_data = ud;
}

static void on_completion(int32_t listen_fd, const ario_cqe *c, uint32_t *served) {
  unsigned tag = (unsigned)(c->user_data >> 8), slot = (unsigned)(c->user_data & 0xFF);
  conn *k = &conns[slot];
  switch (tag) {
  case TAG_ACCEPT:
    if (c->res >= 0) {
      unsigned s = 0;
      while (s < MAX_CONN && conns[s].fd >= 0) s++;
      if (s == MAX_CONN) {
        queue(ARIO_OP_CLOSE, c->res, UD(TAG_CLOSE, MAX_CONN), 0, 0); /* full */
      } else {
        conns[s].fd = c->res;
        queue(ARIO_OP_RECV, c->res, UD(TAG_RECV, s), conns[s].buf, BUF_LEN);
      }
    } else {
      LOG("accept: %d", (int)c->res);
    }
    queue(ARIO_OP_ACCEPT, listen_fd, UD(TAG_ACCEPT, 0), 0, 0);
    break;
  case TAG_RECV:
    if (c->res <= 0) { /* peer closed, or an error */
      queue(ARIO_OP_CLOSE, k->fd, UD(TAG_CLOSE, slot), 0, 0);
      break;
    }
    k->len = (uint32_t)c->res;
    k->sent = 0;
    queue(ARIO_OP_SEND, k->fd, UD(TAG_SEND, slot), k->buf, k->len);
    break;
  case TAG_SEND:
    if (c->res < 0) {
      queue(ARIO_OP_CLOSE, k->fd, UD(TAG_CLOSE, slot), 0, 0);
      break;
    }
    k->sent += (uint32_t)c->res;
    if (k->sent < k->len) /* short send: the rest */
      queue(ARIO_OP_SEND, k->fd, UD(TAG_SEND, slot), k->buf + k->sent, k->len - k->sent);
    else
      queue(ARIO_OP_RECV, k->fd, UD(TAG_RECV, slot), k->buf, BUF_LEN);
    break;
  case TAG_CLOSE:
    if (slot < MAX_CONN) {
      k->fd = -1;
      ++*served;
    }
    break;
  }
}

/* Serves echo on `port` until `max_clients` connections have closed (0: for
 * ever). Returns 0, or a negative errno. */
int echo_run(uint16_t port, uint32_t max_clients) {
  ario_params p = {.entries = ENTRIES};
  int rc = ario_init(loop_mem, sizeof loop_mem, &p);
  if (rc < 0) return rc;
  ario_loop *loop = (ario_loop *)(void *)loop_mem;
  for (unsigned s = 0; s < MAX_CONN; s++) conns[s].fd = -1;

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) return -1;
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, MAX_CONN) < 0) return -1;
  ario_set_nonblocking(lfd, 1); /* ACCEPT waits for readiness, then accepts */
  LOG("echo: listening on port %u", (unsigned)port);

  uint32_t served = 0;
  ario_cqe cqes[ENTRIES];
  queue(ARIO_OP_ACCEPT, lfd, UD(TAG_ACCEPT, 0), 0, 0);
  while (max_clients == 0 || served < max_clients) {
    if (npending) { /* one batch per turn of the loop */
      int n = ario_submit(loop, pending, npending);
      if (n < 0) return n;
      memmove(pending, pending + n, (npending - (uint32_t)n) * sizeof pending[0]);
      npending -= (uint32_t)n;
    }
    int n = ario_reap(loop, cqes, ENTRIES, -1); /* sleeps in select() */
    if (n < 0) return n;
    for (int i = 0; i < n; i++) on_completion(lfd, &cqes[i], &served);
  }
  ario_close(loop, lfd);
  ario_deinit(loop);
  return 0;
}

#if defined(ESP_PLATFORM)
/* ESP-IDF: the network must be up before the loop is made. ario opens its
 * wake-up socket (UDP on 127.0.0.1, lwIP's loopback netif) in ario_init(),
 * and the listener needs an address to serve on. This is the bring-up of
 * ESP-IDF's own examples (protocol_examples_common: add
 * $IDF_PATH/examples/common_components/protocol_examples_common to
 * EXTRA_COMPONENT_DIRS and `REQUIRES ario protocol_examples_common nvs_flash`
 * in main/CMakeLists.txt; set the SSID in menuconfig). Your own esp_wifi or
 * esp_eth set-up goes in its place. The loop is then owned by this task:
 * every ario_submit()/ario_reap() on it comes from here. */
void app_main(void) {
  esp_err_t err = nvs_flash_init(); /* Wi-Fi keeps its calibration in NVS */
  if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
    ESP_ERROR_CHECK(nvs_flash_erase());
    err = nvs_flash_init();
  }
  ESP_ERROR_CHECK(err);
  ESP_ERROR_CHECK(esp_netif_init());                /* lwIP's tcpip thread */
  ESP_ERROR_CHECK(esp_event_loop_create_default()); /* Wi-Fi/IP events */
  ESP_ERROR_CHECK(example_connect());               /* Wi-Fi or Ethernet, waits for an IP */
  int rc = echo_run(7, 0);
  LOG("echo stopped: %d", rc);
}
#else
int main(int argc, char **argv) {
  uint16_t port = (uint16_t)(argc > 1 ? atoi(argv[1]) : 7007);
  uint32_t clients = (uint32_t)(argc > 2 ? atoi(argv[2]) : 0);
  int rc = echo_run(port, clients);
  if (rc) fprintf(stderr, "echo: %d\n", rc);
  return rc ? 1 : 0;
}
#endif
