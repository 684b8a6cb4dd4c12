// epoll, eventfd and accept4 for the RPC fast lanes (and the lookup load
// generator): calls Swift's Glibc module does not expose, and epoll_event is
// packed, so events and tags are passed as plain arrays.
#pragma once
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

static const uint32_t CPOLL_IN = EPOLLIN;
static const uint32_t CPOLL_OUT = EPOLLOUT;
static const uint32_t CPOLL_ERR = EPOLLERR;
static const uint32_t CPOLL_HUP = EPOLLHUP;
static const int CPOLL_ADD = EPOLL_CTL_ADD;
static const int CPOLL_MOD = EPOLL_CTL_MOD;
static const int CPOLL_DEL = EPOLL_CTL_DEL;
enum { CPOLL_MAX_EVENTS = 256 };

static inline int cpoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int cpoll_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static inline int cpoll_control(int epoll, int operation, int fd, uint32_t events, uint64_t tag) {
    struct epoll_event event = { .events = events, .data = { .u64 = tag } };
    return epoll_ctl(epoll, operation, fd, &event);
}

// Waits for up to CPOLL_MAX_EVENTS events; fills events[i] and tags[i].
static inline int cpoll_unpack(const struct epoll_event *ready, int count, uint32_t *events, uint64_t *tags) {
    for (int i = 0; i < count; i++) {
        events[i] = ready[i].events;
        tags[i] = ready[i].data.u64;
    }
    return count;
}

static inline int cpoll_wait(int epoll, uint32_t *events, uint64_t *tags, int timeout_ms) {
    struct epoll_event ready[CPOLL_MAX_EVENTS];
    return cpoll_unpack(ready, epoll_wait(epoll, ready, CPOLL_MAX_EVENTS, timeout_ms), events, tags);
}

// Declared by <sys/socket.h> only under _GNU_SOURCE, which would make this
// module's system types differ from Swift's Glibc module.
extern int accept4(int, struct sockaddr *, socklen_t *, int);

static inline int cpoll_accept(int listener, struct sockaddr *address, socklen_t *length) {
    return accept4(listener, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

// Declared by <sys/epoll.h> only under _GNU_SOURCE (as accept4 above).
extern int epoll_pwait2(int, struct epoll_event *, int, const struct timespec *, const __sigset_t *);

// cpoll_wait with a timeout in nanoseconds (negative: none), for the load
// generator's pacer: epoll_wait's milliseconds are too coarse for a pacer
// that sends every 100 µs.
static inline int cpoll_wait_ns(int epoll, uint32_t *events, uint64_t *tags, int64_t timeout_ns) {
    struct epoll_event ready[CPOLL_MAX_EVENTS];
    struct timespec timeout = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
    int count = epoll_pwait2(epoll, ready, CPOLL_MAX_EVENTS, timeout_ns < 0 ? NULL : &timeout, NULL);
    return cpoll_unpack(ready, count, events, tags);
}

// Timers of the calling thread fire when asked, not up to 50 µs later (the
// default slack lets the kernel batch wake-ups).
static inline void cpoll_precise_timers(void) { prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

