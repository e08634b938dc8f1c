/* Stub of ESP-IDF's examples/common_components/protocol_examples_common
 * (see esp_err.h): connects Wi-Fi or Ethernet as menuconfig says and waits
 * for an IP address. */
#pragma once
#include "esp_err.h"
esp_err_t example_connect(void);
