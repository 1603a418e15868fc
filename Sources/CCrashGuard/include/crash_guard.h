// The lesson runner's last guard: if the runner itself crashes (SIGSEGV, SIGILL from a Swift
// trap, SIGBUS, SIGFPE, SIGABRT, SIGTRAP), the process groups of the commands it started are
// killed before it dies, so none is left running under init. C, because a signal handler may
// only call async-signal-safe functions (kill(2), sigaction(2)) and touch sig_atomic_t data.
#pragma once
#include <sys/types.h>

// Installs the handler for the crash signals (once, before any command starts).
void sockettutor_guard_install(void);

// Records a process group in slot `slot` (0 to 4095), or forgets the slot with group 0.
void sockettutor_guard_set(int slot, pid_t group);
