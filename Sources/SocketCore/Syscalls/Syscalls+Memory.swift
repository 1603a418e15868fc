@preconcurrency import Glibc
import CLinux

extension Syscall {
    /// malloc_trim(3) with pad 0: hands the free pages of every malloc arena back to the kernel
    /// (madvise(MADV_DONTNEED) on them). free() alone keeps freed memory in the process for
    /// reuse, so a burst of large buffers would leave its peak in the RSS for good. Returns
    /// whether any memory went back. It cannot fail: it never returns -1.
    @discardableResult
    public static func trimHeap() -> Bool {
        (try? call("malloc_trim", "0") { malloc_trim(0) }) == 1
    }
}
