/* pg_sim: the real PressureGuard ELF on a simulated Arduino Nano (simavr), with a simulated
 * HX711 whose counts follow a script, a scripted push button, and UART0 on a pseudo-terminal.
 *
 *   pg_sim FIRMWARE.elf SCRIPT [--realtime] [--wait-host] [--link PATH]
 *
 * It prints "pty /dev/pts/N", then one line per event, stamped in simulated ns: "boot", "drdy K
 * NS RAW" (conversion K ready), "read K NS", "pin motor|buzzer 0|1 NS", "rx NS HH" (a host byte
 * handed to the UART), "reset NS", "hang NS", and problems ("missed", "powerdown",
 * "spurious_sck", "crashed"). At the end of the script it prints "end NS" and "wdtcsr HH", and
 * keeps the pty open until its standard input closes.
 *
 * Script lines: "rate 80|10", "first_ms MS" (the first conversion), "sample RAW", "repeat N RAW",
 * "stall N" (N conversion periods without a conversion), "button MS 0|1" (1 = pressed),
 * "hang MS" (freeze the firmware, to test the watchdog), "end_ms MS". '#' starts a comment. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <avr_ioport.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_io.h>

#include "hx711_model.h"
#include "pty_link.h"
#include "sim_log.h"

/* Arduino Nano pins of hardware/firmware/pressureguard/board.h, all on port D. */
enum { PIN_SCK = 2, PIN_DOUT = 3, PIN_BUTTON = 4, PIN_MOTOR = 5, PIN_BUZZER = 6 };
#define WDTCSR_ADDR 0x60
#define SERVICE_CYCLES 2000 /* 125 µs between pty services */
#define MAX_BUTTON 256

static avr_t *avr;
static hx711_t hx;
static pty_link_t link_;
static avr_irq_t *dout_irq, *button_irq;
static avr_ioport_external_t external = {.name = 'D'};
static uint64_t button_cycle[MAX_BUTTON];
static bool button_level[MAX_BUTTON]; /* true = pressed = pin low */
static int nbutton, next_button;
static bool button_pressed;
static uint64_t hang_cycle = UINT64_MAX, end_cycle;
static uint32_t hang_pc;
static uint8_t hang_saved[2];
static bool hung, after_reset;
static int pin_last[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
static void (*core_reset)(avr_t *);

void sim_event(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

uint64_t sim_ns(const avr_t *a, uint64_t cycle)
{
    return cycle * 1000000000ULL / a->frequency;
}

void sim_drive_pin(avr_irq_t *pin, bool level)
{
    uint8_t mask = (uint8_t)(1u << pin->irq);
    external.mask |= mask;
    external.value = level ? (external.value | mask) : (external.value & ~mask);
    avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('D'), &external);
    avr_raise_irq(pin, level);
}

static void force_pin(avr_irq_t *pin, bool level)
{
    avr_raise_irq(pin, !level); /* the I/O registers were cleared: raise it anew */
    sim_drive_pin(pin, level);
}

static void pin_changed(struct avr_irq_t *irq, uint32_t value, void *param)
{
    int v = value != 0;
    if (pin_last[irq->irq] != v) {
        pin_last[irq->irq] = v;
        sim_event("pin %s %d %llu", (const char *)param, v,
                  (unsigned long long)sim_ns(avr, avr->cycle));
    }
}

static void on_reset(avr_t *a)
{
    if (core_reset) {
        core_reset(a);
    }
    if (hung) { /* the watchdog fired: put back the instruction the freeze replaced */
        a->flash[hang_pc] = hang_saved[0];
        a->flash[hang_pc + 1] = hang_saved[1];
        hung = false;
    }
    sim_event("reset %llu", (unsigned long long)sim_ns(a, a->cycle));
    after_reset = true;
}

static uint64_t ms_cycles(double ms)
{
    return (uint64_t)(ms * (double)avr->frequency / 1000.0);
}

static void load_script(const char *path, int *rate, double *first_ms, double *end_ms)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char word[32];
        double a = 0, b = 0;
        int n = sscanf(line, "%31s %lf %lf", word, &a, &b);
        if (n < 1 || word[0] == '#') {
            continue;
        }
        int reps = strcmp(word, "repeat") == 0 ? (int)a : 1;
        double value = strcmp(word, "repeat") == 0 ? b : a;
        if (!strcmp(word, "rate")) {
            *rate = (int)a;
        } else if (!strcmp(word, "first_ms")) {
            *first_ms = a;
        } else if (!strcmp(word, "end_ms")) {
            *end_ms = a;
        } else if (!strcmp(word, "hang")) {
            hang_cycle = (uint64_t)a; /* ms for now; converted once the clock is known */
        } else if (!strcmp(word, "button") && nbutton < MAX_BUTTON) {
            button_cycle[nbutton] = (uint64_t)(a * 1000.0); /* µs for now */
            button_level[nbutton++] = b != 0;
        } else if (!strcmp(word, "sample") || !strcmp(word, "repeat") || !strcmp(word, "stall")) {
            bool stall = !strcmp(word, "stall");
            if (stall) {
                reps = (int)a;
            }
            for (int i = 0; i < reps && hx.nslots < HX_MAX_SLOTS; i++) {
                hx.stall[hx.nslots] = stall;
                hx.value[hx.nslots++] = stall ? 0 : (int32_t)value;
            }
        } else {
            fprintf(stderr, "%s: unknown line: %s", path, line);
            exit(2);
        }
    }
    fclose(f);
}

/* simavr's own messages go to stderr, errors only: stdout carries the events. */
static void log_to_stderr(avr_t *a, const int level, const char *format, va_list ap)
{
    if (level <= LOG_ERROR && (!a || level <= a->log)) {
        vfprintf(stderr, format, ap);
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FIRMWARE.elf SCRIPT [--realtime] [--wait-host] [--link PATH]\n",
                argv[0]);
        return 2;
    }
    bool realtime = false, wait_host = false;
    const char *link_path = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--realtime")) {
            realtime = true;
        } else if (!strcmp(argv[i], "--wait-host")) {
            wait_host = true;
        } else if (!strcmp(argv[i], "--link") && i + 1 < argc) {
            link_path = argv[++i];
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    avr_global_logger_set(log_to_stderr);
    elf_firmware_t fw;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[1], &fw)) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) {
        return 2;
    }
    avr_init(avr);
    avr->log = LOG_ERROR;
    avr_load_firmware(avr, &fw);
    avr->frequency = 16000000;
    core_reset = avr->reset;
    avr->reset = on_reset;

    int rate = 80;
    double first_ms = 60, end_ms = -1;
    load_script(argv[2], &rate, &first_ms, &end_ms);
    if (hang_cycle != UINT64_MAX) {
        hang_cycle = ms_cycles((double)hang_cycle);
    }
    for (int i = 0; i < nbutton; i++) {
        button_cycle[i] = ms_cycles((double)button_cycle[i] / 1000.0);
    }

    avr_irq_t *sck = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), PIN_SCK);
    dout_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), PIN_DOUT);
    button_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), PIN_BUTTON);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), PIN_MOTOR),
                            pin_changed, "motor");
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), PIN_BUZZER),
                            pin_changed, "buzzer");
    hx711_init(&hx, avr, sck, dout_irq, rate, first_ms);
    sim_drive_pin(button_irq, true); /* released: the contact is open, the pull-up wins */
    if (end_ms < 0) {
        end_ms = first_ms + (hx.nslots + 20) * 1000.0 / rate;
    }
    end_cycle = ms_cycles(end_ms);

    if (pty_link_init(&link_, avr)) {
        perror("pty");
        return 2;
    }
    if (link_path) {
        unlink(link_path);
        if (symlink(link_.path, link_path)) {
            perror(link_path);
            return 2;
        }
    }
    sim_event("pty %s", link_.path);
    while (wait_host && !link_.host_spoke) {
        pty_link_poll_host(&link_, 200); /* power up when the host opens the port and speaks */
    }
    sim_event("boot 0");

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t next_service = 0, next_due = 0;
    for (;;) {
        int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            sim_event("crashed %llu", (unsigned long long)sim_ns(avr, avr->cycle));
            break;
        }
        if (after_reset) {
            after_reset = false;
            force_pin(dout_irq, hx711_dout(&hx)); /* the HX711 is not reset with the MCU */
            force_pin(button_irq, !button_pressed);
        }
        uint64_t c = avr->cycle;
        if (c < next_due) {
            continue;
        }
        hx711_tick(&hx, c);
        while (next_button < nbutton && button_cycle[next_button] <= c) {
            button_pressed = button_level[next_button++];
            sim_drive_pin(button_irq, !button_pressed);
        }
        if (c >= hang_cycle) {
            hang_cycle = UINT64_MAX;
            hang_pc = avr->pc;
            hang_saved[0] = avr->flash[hang_pc];
            hang_saved[1] = avr->flash[hang_pc + 1];
            avr->flash[hang_pc] = 0xFF; /* rjmp . (0xCFFF): the firmware spins on the spot */
            avr->flash[hang_pc + 1] = 0xCF;
            hung = true;
            sim_event("hang %llu", (unsigned long long)sim_ns(avr, c));
        }
        if (c >= end_cycle) {
            break;
        }
        if (c >= next_service) {
            pty_link_service(&link_);
            next_service = c + SERVICE_CYCLES;
            if (realtime) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                int64_t wall = (int64_t)(now.tv_sec - t0.tv_sec) * 1000000000LL +
                               (now.tv_nsec - t0.tv_nsec);
                int64_t ahead = (int64_t)sim_ns(avr, c) - wall;
                if (ahead > 2000000) {
                    struct timespec nap = {0, (long)ahead};
                    nanosleep(&nap, NULL);
                }
            }
        }
        next_due = min_u64(min_u64(hx711_next_cycle(&hx), next_service),
                           min_u64(min_u64(hang_cycle, end_cycle),
                                   next_button < nbutton ? button_cycle[next_button] : UINT64_MAX));
    }
    pty_link_service(&link_);
    pty_link_drain(&link_, 5000);
    sim_event("end %llu", (unsigned long long)sim_ns(avr, avr->cycle));
    sim_event("wdtcsr %02x", avr->data[WDTCSR_ADDR]);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
        /* keep the pty open until the test is done with it */
    }
    return 0;
}
