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

