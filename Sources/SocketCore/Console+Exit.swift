@preconcurrency import Glibc

extension Console {
    /// Ends the process at once with `status`, from any thread, without printing a line twice.
    ///
    /// exit(3) flushes stdio's buffers without taking their locks; if another thread is halfway
    /// through printing a line, that line can come out twice (seen: `server Recv Over` twice when
    /// SIGTERM arrived just as a client left). So: take stdout's lock (waiting for a line being
    /// printed), flush what it holds, and leave with _exit(2), which skips stdio altogether.
    /// Sockets need nothing more: the kernel closes every descriptor of an ending process.
    ///
    /// The wait for the lock is bounded (1 s): a thread stuck writing to a stdout nobody reads
    /// (a full pipe, a terminal paused with Ctrl-S) holds it forever, and SIGTERM must still end us.
    public static func exit(_ status: Int32) -> Never {
        var tries = 0
        while ftrylockfile(stdout) != 0 && tries < 100 {
            Syscall.sleep(seconds: 0.01)
            tries += 1
        }
        if tries < 100 { fflush_unlocked(stdout) }
        fflush(stderr)   // unbuffered: nothing waits there, but be explicit
        _exit(status)
    }
}
