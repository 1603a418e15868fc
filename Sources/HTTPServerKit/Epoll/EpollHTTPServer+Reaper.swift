@preconcurrency import Glibc
import SocketCore

/// Timeouts: epoll has no timer per socket, so one thread closes the connections that waited
/// too long, oldest first (each stage's list is in order of time: no scan).
extension EpollHTTPServer {
    /// Sleeps until the oldest parked connection expires (at most a second; 10 ms when a
    /// worker is reading it right now), closes what expired, and retries a paused listener.
    func reapForever() -> Never {
        while true {
            let now = Self.now()
            let next = closeExpired(now: now)
            let since = pausedSince.load(ordering: .relaxed)
            if since != 0 && now >= since + Self.pauseMilliseconds { resumeListener() }
            let wait = min(next > now ? next - now : 1, since != 0 ? Self.pauseMilliseconds : 1000)
            usleep(UInt32(wait * 1000))
        }
    }

    /// Closes the connections that waited `--timeout`: idle ones silently, half-sent heads with
    /// Python's log line. Returns when the next one expires.
    private func closeExpired(now: UInt64) -> UInt64 {
        var next = now + 1000
        for stage in [ParkedConnections.Stage.waiting, .reading] {
            while true {
                let expired: Connection? = parked.withLock { parked in
                    guard let (fd, since, busy) = parked.oldest(in: stage) else { return nil }
                    if busy {
                        next = min(next, now + 10)
                        return nil
                    }
                    guard now >= since + timeoutMilliseconds else {
                        next = min(next, since + timeoutMilliseconds)
                        return nil
                    }
                    return parked.take(fd)
                }
                guard let expired else { break }
                if stage == .reading { expired.withHandler { $0.requestTimedOut() } }
                close(expired)
            }
        }
        return next
    }
}
