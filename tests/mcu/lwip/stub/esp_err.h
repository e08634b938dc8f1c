/* Stub of ESP-IDF's esp_err.h: declarations only, for the compile check of
 * examples/firmware/echo_main.c with -DESP_PLATFORM (tests/mcu/lwip/run.sh).
 * Values as ESP-IDF defines them. Nothing here is linked or run. */
#pragma once
#include <stdint.h>
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_NVS_BASE 0x1100
#define ESP_ERR_NVS_NO_FREE_PAGES (ESP_ERR_NVS_BASE + 0x0d)
#define ESP_ERR_NVS_NEW_VERSION_FOUND (ESP_ERR_NVS_BASE + 0x10)
void _esp_error_check_failed(esp_err_t rc, const char *file, int line, const char *function,
                             const char *expression) __attribute__((noreturn));
#define ESP_ERROR_CHECK(x)                                                        \
  do {                                                                            \
    esp_err_t err_rc_ = (x);                                                      \
    if (err_rc_ != ESP_OK) _esp_error_check_failed(err_rc_, __FILE__, __LINE__, __func__, #x); \
  } while (0)
