// epoll, eventfd and accept4 for the RPC fast lanes: calls Swift's Glibc
// module does not expose, and epoll_event is packed, so events and tags are
// passed as plain arrays.
#pragma once
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

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
static inline int cpoll_wait(int epoll, uint32_t *events, uint64_t *tags, int timeout_ms) {
    struct epoll_event ready[CPOLL_MAX_EVENTS];
    int count = epoll_wait(epoll, ready, CPOLL_MAX_EVENTS, timeout_ms);
    for (int i = 0; i < count; i++) {
        events[i] = ready[i].events;
        tags[i] = ready[i].data.u64;
    }
    return count;
}

// Declared by <sys/socket.h> only under _GNU_SOURCE, which would make this
// module's system types differ from Swift's Glibc module.
extern int accept4(int, struct sockaddr *, socklen_t *, int);

static inline int cpoll_accept(int listener, struct sockaddr *address, socklen_t *length) {
    return accept4(listener, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
