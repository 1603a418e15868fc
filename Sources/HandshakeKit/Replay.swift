@preconcurrency import Glibc
import SocketCore

/// `--pace` and `--step`: slow a file's replay down so a teacher can talk over each segment.
public struct Replay: Sendable {
    let pace: Double?
    let step: Bool
    let state: WatchState

    public init(pace: Double?, step: Bool, state: WatchState) {
        self.pace = pace
        self.step = step
        self.state = state
    }

    /// Waits before the next packet; false when a signal asked us to stop meanwhile.
    func wait() -> Bool {
        if let pace {
            var left = pace
            while left > 0 {
                if state.stopped.load(ordering: .relaxed) { return false }
                let slice = min(left, 0.05)
                Syscall.sleep(seconds: slice)
                left -= slice
            }
        } else if step {
            // Wait for Enter on stdin, looking up every 100 ms in case Ctrl-C came.
            var entries = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)]
            var byte: [UInt8] = [0]
            while true {
                if state.stopped.load(ordering: .relaxed) { return false }
                if (try? Syscall.poll(&entries, timeout: 100, traced: false)) ?? 0 > 0 {
                    let count = (try? byte.withUnsafeMutableBytes { try Syscall.read(STDIN_FILENO, into: $0, traced: false) }) ?? 0
                    if count <= 0 { return true }   // end of input: stop stepping
                    if byte[0] == 0x0A { return true }
                }
            }
        }
        return !state.stopped.load(ordering: .relaxed)
    }
}
