#ifndef NETHEAL_CPREFETCH_H
#define NETHEAL_CPREFETCH_H

/// Asks the CPU to bring the cache line holding `address` into its caches ahead of a read. A hint
/// only: it never faults (any address is fine, even a stale one) and changes no result, only when a
/// later load finds its line. The simulator uses it to fetch the state of the events about to run
/// (`Simulation+Prefetch.swift`).
static inline __attribute__((always_inline)) void netheal_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
