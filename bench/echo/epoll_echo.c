/*
 * epoll_echo.c: the reference echo server for bench/echo/run.
 *
 * The baseline our Swift server is measured against: one thread, epoll(7) level-triggered,
 * non-blocking sockets, TCP_NODELAY on each client (as echo-server sets), one read buffer of
 * --buffer-size bytes, and a per-connection output buffer for what send() could not take,
 * so a client that does not read never stalls the others.
 *
 *   cc -O2 -o bench/out/epoll_echo bench/echo/epoll_echo.c
 *   bench/out/epoll_echo PORT BUFFER_SIZE      (PORT 0: any free port)
 *
 * Prints "listening 127.0.0.1:PORT" once listen() returned.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define OUTPUT_LIMIT (1 << 20)

struct connection {
    int fd;
    char *out;          /* bytes received but not yet echoed */
    size_t out_start, out_end, out_cap;
    int peer_done;      /* the client sent FIN */
    uint32_t interest;  /* the events epoll watches for now */
};

static int epfd;

static void drop(struct connection *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out);
    free(c);
}

/* Updates what epoll watches for, only when it changes (epoll_ctl is a system call). */
static void watch(struct connection *c) {
    struct epoll_event ev = { .data.ptr = c, .events = 0 };
    size_t pending = c->out_end - c->out_start;
    if (!c->peer_done && pending < OUTPUT_LIMIT) ev.events |= EPOLLIN;
    if (pending > 0) ev.events |= EPOLLOUT;
    if (ev.events == c->interest) return;
    c->interest = ev.events;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static int queue_output(struct connection *c, const char *bytes, size_t count) {
    if (c->out_end + count > c->out_cap) {
        size_t pending = c->out_end - c->out_start;
        memmove(c->out, c->out + c->out_start, pending);
        c->out_start = 0;
        c->out_end = pending;
        if (pending + count > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 65536;
            while (cap < pending + count) cap *= 2;
            char *grown = realloc(c->out, cap);
            if (!grown) return -1;
            c->out = grown;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_end, bytes, count);
    c->out_end += count;
    return 0;
}

/* Sends what is queued; returns -1 if the connection failed. */
static int flush(struct connection *c) {
    while (c->out_start < c->out_end) {
        ssize_t n = send(c->fd, c->out + c->out_start, c->out_end - c->out_start, MSG_NOSIGNAL);
        if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        c->out_start += (size_t)n;
    }
    c->out_start = c->out_end = 0;
    return 0;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 65536;
    char *buffer = malloc(size);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 128) < 0) {
        perror("epoll_echo: bind/listen");
        return 1;
    }
    socklen_t length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &length);
    printf("listening 127.0.0.1:%d\n", ntohs(address.sin_port));

    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    struct epoll_event events[MAX_EVENTS];

    for (;;) {
        int ready = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (ready < 0) { if (errno == EINTR) continue; perror("epoll_wait"); return 1; }
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            if (c == NULL) {   /* the listening socket */
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *fresh = calloc(1, sizeof *fresh);
                    fresh->fd = fd;
                    fresh->interest = EPOLLIN;
                    struct epoll_event cev = { .events = EPOLLIN, .data.ptr = fresh };
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            uint32_t what = events[i].events;
            if ((what & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->out_end > c->out_start) {
                if (flush(c) < 0) { drop(c); continue; }
            }
            if ((what & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !c->peer_done && c->out_end - c->out_start < OUTPUT_LIMIT) {
                ssize_t n = recv(c->fd, buffer, size, 0);
                if (n == 0) {
                    c->peer_done = 1;
                } else if (n < 0) {
                    if (errno != EAGAIN && errno != EINTR) { drop(c); continue; }
                } else {
                    ssize_t sent = 0;
                    if (c->out_end == c->out_start) {
                        sent = send(c->fd, buffer, (size_t)n, MSG_NOSIGNAL);
                        if (sent < 0) {
                            if (errno != EAGAIN && errno != EINTR) { drop(c); continue; }
                            sent = 0;
                        }
                    }
                    if (sent < n && queue_output(c, buffer + sent, (size_t)(n - sent)) < 0) { drop(c); continue; }
                }
            }
            if (c->peer_done && c->out_end == c->out_start) { drop(c); continue; }
            watch(c);
        }
    }
}
