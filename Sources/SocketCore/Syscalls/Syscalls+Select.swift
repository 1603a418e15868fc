@preconcurrency import Glibc

extension Syscall {
    /// select(2): sleeps until a descriptor in `readable` has data (or, on a listening socket, a
    /// connection to accept) or one in `writable` has room, or `timeout` seconds pass (nil:
    /// forever). On return the kernel has cleared every descriptor that is *not* ready, so the
    /// sets must be filled again before the next call. Returns how many are ready.
    ///
    /// The sets are bitmaps of `FD_SETSIZE` (1024) bits: select() cannot watch descriptor 1024 or
    /// above, whatever the process's descriptor limit. poll(2) has no such ceiling.
    public static func select(_ readable: inout DescriptorSet, _ writable: inout DescriptorSet,
                              timeout: Double? = nil) throws -> Int {
        let limit = max(readable.highest, writable.highest) + 1   // nfds: highest descriptor + 1
        var wait = timeout.map { Glibc.timeval(tv_sec: Int($0), tv_usec: Int(($0 - $0.rounded(.down)) * 1e6)) }
        // The sets as they go in: on return the kernel has overwritten them with the ready ones.
        let shown = Trace.isEnabled
            ? "\(limit), \(readable), \(writable), " + (timeout.map { "timeout \($0) s" } ?? "no timeout") : ""
        return Int(try call("select", shown, result: { (ready: Int32) in "\(ready) ready" }) {
            withUnsafeMutablePointer(to: &readable.bits) { read -> Int32 in
                withUnsafeMutablePointer(to: &writable.bits) { write -> Int32 in
                    guard wait != nil else { return Glibc.select(limit, read, write, nil, nil) }
                    return withUnsafeMutablePointer(to: &wait!) { Glibc.select(limit, read, write, nil, $0) }
                }
            }
        })
    }
}
