/* N Server-Sent Events clients in one epoll loop, for bench/liveview/run (a Python reader could
 * not keep up with 100 full-speed streams; this one can, so the figure is the server's).
 *
 *     fanout PORT N AFTER      (cc -O2 -o fanout fanout.c)
 *
 * Opens N streams `GET /events?after=AFTER`, prints `ready` once every head has arrived, then
 * counts the messages (`\nid: `) each receives, until all have been quiet for 2 s. Prints
 *     clients N events E first_to_last_s S delivered_per_s D min_last_id A max_last_id B closed C
 * E is the mean per client; each client must end with the server's last id and E == last - AFTER.
 */
#define _GNU_SOURCE   /* memmem */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client { int fd, head, closed; long received, last; char tail[16]; int tail_len; };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Counts "\nid: N" in buf (with the previous chunk's tail in front), remembering the last N. */
static long count_ids(struct client *c, const char *data, long n) {
    static char buf[(1 << 20) + 16];
    memcpy(buf, c->tail, c->tail_len);
    memcpy(buf + c->tail_len, data, n);
    long len = n + c->tail_len, found = 0;
    const char *p = buf, *end = buf + len;
    while ((p = memmem(p, end - p, "\nid: ", 5)) != NULL) {
        const char *digits = p + 5, *q = digits;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == end) break;   /* cut: counted with the next chunk */
        c->last = strtol(digits, NULL, 10);
        found++;
        p = q;
    }
    /* Kept for the next chunk: a message start cut in its id, or what could begin one ("\nid:"). */
    long keep = p ? end - p : (len < 4 ? len : 4);
    if (keep > 15) keep = 15;
    memcpy(c->tail, end - keep, keep);
    c->tail_len = keep;
    return found;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: fanout PORT N AFTER\n"); return 1; }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    long after = atol(argv[3]);
    struct client *clients = calloc(n, sizeof *clients);
    int ep = epoll_create1(0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    char request[128];
    int request_len = snprintf(request, sizeof request, "GET /events?after=%ld HTTP/1.0\r\n\r\n", after);
    for (int i = 0; i < n; i++) {
        clients[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(clients[i].fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 1; }
        if (write(clients[i].fd, request, request_len) != request_len) { perror("write"); return 1; }
        clients[i].last = after;
        clients[i].tail[0] = '\n';   /* the first message follows the head's blank line */
        clients[i].tail_len = 1;
        struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
        epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &e);
    }
    static char chunk[1 << 20];
    struct epoll_event events[256];
    int heads = 0, closed = 0, said_ready = 0;
    double first = 0, last = 0, quiet_since = now();
    for (;;) {
        int ready = epoll_wait(ep, events, 256, 200);
        double t = now();
        if (ready > 0) quiet_since = t;
        for (int k = 0; k < ready; k++) {
            struct client *c = &clients[events[k].data.u32];
            long got = read(c->fd, chunk, sizeof chunk);
            if (got <= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); c->closed = 1; closed++; continue; }
            const char *data = chunk;
            if (!c->head) {
                char *blank = memmem(chunk, got, "\r\n\r\n", 4);
                if (!blank) continue;   /* heads are small: they come in one piece here */
                c->head = 1; heads++;
                data = blank + 4; got -= data - chunk;
            }
            long found = count_ids(c, data, got);
            if (found) { c->received += found; if (!first) first = t; last = t; }
        }
        if (!said_ready && heads == n) { printf("ready\n"); fflush(stdout); said_ready = 1; quiet_since = t; }
        if (said_ready && first && t - quiet_since > 2) break;
        if (said_ready && !first && t - quiet_since > 120) break;
    }
    long total = 0, min_last = -1, max_last = 0;
    for (int i = 0; i < n; i++) {
        total += clients[i].received;
        if (min_last < 0 || clients[i].last < min_last) min_last = clients[i].last;
        if (clients[i].last > max_last) max_last = clients[i].last;
    }
    double span = last - first > 1e-6 ? last - first : 1e-6;
    printf("clients %d events %.0f first_to_last_s %.3f delivered_per_s %.0f min_last_id %ld max_last_id %ld closed %d\n",
           n, (double)total / n, span, total / span, min_last, max_last, closed);
    return 0;
}
