/* Stub of ESP-IDF's esp_log.h (see esp_err.h). */
#pragma once
#include <stdint.h>
void esp_log_write(int level, const char *tag, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
#define ESP_LOG_INFO 3
#define ESP_LOGI(tag, format, ...) esp_log_write(ESP_LOG_INFO, tag, format "\n", ##__VA_ARGS__)
