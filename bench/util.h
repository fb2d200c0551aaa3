/* What the benchmark programs share: a monotonic clock, a stop flag for SIGINT/SIGTERM/SIGHUP,
 * numbers with thousands separators, the host's CPU model, and removing a private tree. */
#ifndef IDG_BENCH_UTIL_H
#define IDG_BENCH_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Set by on_signal: every timed loop checks it and the run cleans up. */
extern volatile sig_atomic_t interrupted;
void on_signal(int sig);

uint64_t now_ns(void);			/* CLOCK_MONOTONIC */
double secs_since(uint64_t t0);
void sleep_ms(unsigned ms);
/* v with thousands separators, in one of 16 rotating buffers (for printf arguments). */
const char *num(uint64_t v);
/* The first "model name" of /proc/cpuinfo, or "?". */
void cpu_model(char *buf, size_t len);
/* Remove a tree without following symlinks or crossing into another filesystem; what is
 * already gone is not an error. */
int rm_rf(const char *path);

#endif
