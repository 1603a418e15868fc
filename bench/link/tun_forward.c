// bench/link/tun_forward.c: the minimal TUN forwarder lab-link is measured against.
// Two TUN devices, one in each namespace, a poll(2) loop, read(2) a packet from one, write(2) it
// to the other. Nothing else: no batching limit, no timers, no impairments.
//
//   tun_forward CLIENT_NS SERVER_NS CLIENT_DEV SERVER_DEV
// opens each device from inside its namespace (/run/netns/NAME), prints "ready", forwards until
// SIGTERM. The caller gives the addresses with `ip -n NS addr add ...` afterwards.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int open_tun_in(const char *ns, const char *dev) {
    char path[256];
    int home = open("/proc/thread-self/ns/net", O_RDONLY);
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    int target = open(path, O_RDONLY);
    if (home < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0) { perror(path); exit(1); }
    int fd = open("/dev/net/tun", O_RDWR);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); exit(1); }
    if (setns(home, CLONE_NEWNET) < 0) { perror("setns back"); exit(1); }
    close(home);
    close(target);
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: tun_forward CLIENT_NS SERVER_NS CLIENT_DEV SERVER_DEV\n"); return 2; }
    int fds[2] = { open_tun_in(argv[1], argv[3]), open_tun_in(argv[2], argv[4]) };
    printf("ready\n");
    fflush(stdout);
    struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
    static char buffer[65536];
    for (;;) {
        if (poll(p, 2, -1) < 0) continue;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & POLLIN)) continue;
            ssize_t n = read(fds[i], buffer, sizeof buffer);
            if (n > 0) (void)!write(fds[1 - i], buffer, (size_t)n);
        }
    }
}
