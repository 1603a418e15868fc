#include "crash_guard.h"
#include <signal.h>
#include <string.h>

#define GUARDED_GROUPS 4096
static volatile sig_atomic_t guarded[GUARDED_GROUPS];
static struct sigaction previous[NSIG];

static void crash_handler(int signal) {
    for (int i = 0; i < GUARDED_GROUPS; i++) {
        if (guarded[i] > 0) kill(-(pid_t)guarded[i], SIGKILL);
    }
    // Back to what was there before (the Swift runtime's backtracer, or the default): returning
    // re-runs the faulting instruction, or abort() raises again, and that handler takes over.
    sigaction(signal, &previous[signal], NULL);
}

void sockettutor_guard_install(void) {
    int signals[] = { SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGABRT, SIGTRAP };
    for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = crash_handler;
        sigemptyset(&action.sa_mask);
        sigaction(signals[i], &action, &previous[signals[i]]);
    }
}

void sockettutor_guard_set(int slot, pid_t group) {
    if (slot >= 0 && slot < GUARDED_GROUPS) guarded[slot] = (sig_atomic_t)group;
}
