// The CPU's prefetch hint, which Swift does not expose: lookup's fast lane
// asks for the memory a batch of calls will read before answering the first,
// so that the batch's cache misses overlap instead of coming one by one.
#pragma once

static inline void cprefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
