/* Stub of ESP-IDF's esp_netif.h (see esp_err.h). */
#pragma once
#include "esp_err.h"
esp_err_t esp_netif_init(void);
