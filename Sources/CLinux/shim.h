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

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <sys/uio.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <errno.h>
#include <string.h>

// ptrace(2) is variadic in glibc: Swift cannot call it. One fixed-arity door for every request.
static inline long sockettutor_ptrace(int request, pid_t pid, void *addr, void *data) {
    return ptrace((enum __ptrace_request)request, pid, addr, data);
}

// pidfd_open(2) and pidfd_getfd(2), reached through syscall(2) (variadic). pidfd_getfd copies a
// descriptor of a process we trace into our own table, so getsockname(2) can name its socket.
static inline int sockettutor_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}
static inline int sockettutor_pidfd_getfd(int pidfd, int fd) {
    return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

// process_vm_readv(2): glibc declares it only under _GNU_SOURCE, which Swift's Glibc module lacks.
static inline long sockettutor_process_vm_readv(pid_t pid, const struct iovec *local, unsigned long local_count,
                                                const struct iovec *remote, unsigned long remote_count) {
    return syscall(SYS_process_vm_readv, pid, local, local_count, remote, remote_count, 0UL);
}

// Writes a message to stderr from a forked child, where only async-signal-safe calls are allowed.
static inline void sockettutor_child_say(const char *a, const char *b, const char *c) {
    if (a) { ssize_t r = write(2, a, strlen(a)); (void)r; }
    if (b) { ssize_t r = write(2, b, strlen(b)); (void)r; }
    if (c) { ssize_t r = write(2, c, strlen(c)); (void)r; }
}

// fork(2) a child that will run `argv` under our tracer. In the child, between fork and execve,
// only async-signal-safe calls are made (the parent has threads), so this part is C:
//  1. wait until the parent has PTRACE_SEIZEd it: a read(2) of one byte from `sync_read`, which
//     the parent writes once it is the tracer (no signal is involved, so none is left behind);
//  2. install the seccomp-BPF filter `filter` (PR_SET_NO_NEW_PRIVS first when not privileged, as
//     seccomp(2) requires), so only the listed calls stop for the tracer;
//  3. execvp(3) the program. Failure is reported on stderr and exit status 127 (not found) or
//     126, as a shell does.
// The child keeps our process group: it stays in the terminal's foreground, so Ctrl-C reaches it.
// Returns the child's pid to the parent, or -1 with errno.
static inline pid_t sockettutor_fork_traced(char *const argv[], const struct sock_filter *filter,
                                            unsigned short length, int sync_read, int sync_write) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    close(sync_write);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &action, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);   // the watcher blocks SIGINT/SIGTERM; the program must not
    char byte;
    ssize_t got;
    do { got = read(sync_read, &byte, 1); } while (got < 0 && errno == EINTR);
    if (got != 1) _exit(127);   // the parent gave up (it reports why)
    close(sync_read);
    if (filter != NULL) {
        struct sock_fprog program = { .len = length, .filter = (struct sock_filter *)filter };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) {
            if (errno == EACCES && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) == 0) {
                // installed, after no_new_privs
            } else {
                sockettutor_child_say("handshake-watch: cannot install the seccomp filter: ", strerror(errno), "\n");
                _exit(127);
            }
        }
    }
    execvp(argv[0], argv);
    int error = errno;
    sockettutor_child_say("handshake-watch: cannot run ", argv[0], ": ");
    sockettutor_child_say(strerror(error), "\n", NULL);
    _exit(error == ENOENT ? 127 : 126);
}

// malloc_trim(3): glibc's malloc.h is not in Swift's Glibc module.
#include <malloc.h>
