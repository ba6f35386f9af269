/* Stand-in for ESP-IDF's task watchdog (4.x API for core 2.x, 5.x API for core 3.x). */
#include <stdbool.h>
#include <stdint.h>
typedef int esp_err_t;
typedef void *TaskHandle_t;
#define ESP_OK 0
#if ESP_STUB_MAJOR >= 3
typedef struct {
    uint32_t timeout_ms;
    uint32_t idle_core_mask;
    bool trigger_panic;
} esp_task_wdt_config_t;
esp_err_t esp_task_wdt_init(const esp_task_wdt_config_t *config);
esp_err_t esp_task_wdt_reconfigure(const esp_task_wdt_config_t *config);
#else
esp_err_t esp_task_wdt_init(uint32_t timeout_s, bool panic);
#endif
esp_err_t esp_task_wdt_add(TaskHandle_t task);
esp_err_t esp_task_wdt_reset(void);
