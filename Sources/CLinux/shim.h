// Linux calls Swift's Glibc module does not offer: epoll(7), prctl(2), and openat2(2), which glibc has
// no wrapper for (it is reached through syscall(2), a variadic function Swift cannot call).
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/openat2.h>

// openat2(2) with RESOLVE_BENEATH: opens `path` (relative) below the folder `dirfd`, and fails
// with EXDEV if resolving it, symbolic links included, would leave that folder.
static inline int sockettutor_open_beneath(int dirfd, const char *path, int flags) {
    struct open_how how = { .flags = (unsigned long long)flags, .mode = 0, .resolve = RESOLVE_BENEATH };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

#include <sys/prctl.h>

// prctl(2) PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented to the calling process
// instead of to init, so it can still find and stop them. prctl is variadic: Swift cannot call it.
static inline int sockettutor_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}

#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <string.h>

// ioctl(2) TUNSETIFF on an open /dev/net/tun: creates (or attaches to) the TUN device `name` in
// the network namespace the descriptor was opened in. IFF_TUN: IP packets, no Ethernet header;
// IFF_NO_PI: no 4-byte packet-information prefix, so read(2) gives the bare IP packet.
// ioctl is variadic: Swift cannot call it.
static inline int sockettutor_tun_set_iff(int fd, const char *name) {
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    return ioctl(fd, TUNSETIFF, &request);
}

#include <poll.h>
#include <signal.h>
#include <time.h>

// GNU extensions that Swift's Glibc module hides (it is built without _GNU_SOURCE); declared
// here as glibc defines them, and reached through these small names.
extern int setns(int fd, int nstype);
extern int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *sigmask);
extern int pipe2(int pipefd[2], int flags);

// setns(2) with CLONE_NEWNET (0x40000000, <linux/sched.h>): the calling thread joins the network namespace.
static inline int sockettutor_setns_net(int fd) { return setns(fd, 0x40000000); }
// ppoll(2) without a signal mask: poll(2) with a timeout in nanoseconds (NULL: none).
static inline int sockettutor_ppoll(struct pollfd *fds, nfds_t count, const struct timespec *timeout) {
    return ppoll(fds, count, timeout, NULL);
}
// pipe2(2) with O_CLOEXEC.
static inline int sockettutor_pipe_cloexec(int ends[2]) { return pipe2(ends, O_CLOEXEC); }

#include <sys/signalfd.h>

// signalfd(2) for SIGINT, SIGTERM and SIGHUP, non-blocking and close-on-exec; returns the
// descriptor. The signals must be blocked already.
static inline int sockettutor_termination_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}
