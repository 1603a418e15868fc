import SocketCore

/// Timeouts: epoll has no timer per socket, so one thread closes the connections that waited
/// too long, oldest first (each stage's list is in order of time: no scan). The same thread
/// retries a paused listener and watches that the workers make progress.
extension EpollHTTPServer {
    /// Every 50 ms: closes what expired, retries a paused listener, and checks that the
    /// workers are not all stuck.
    func reapForever() -> Never {
        var finished = 0
        while true {
            let now = Self.now()
            closeExpired(now: now)
            let since = pausedSince.load(ordering: .relaxed)
            if since != 0 && now >= since + Self.pauseMilliseconds { resumeListener() }
            addWorkerIfStuck(finishedBefore: finished)
            finished = requestsFinished.load(ordering: .relaxed)
            Syscall.sleep(seconds: 0.05)
        }
    }

    /// Closes the connections that waited too long: idle ones after `--timeout`, silently; those
    /// that sent part of a head and then nothing after `--header-timeout` (nginx's
    /// `client_header_timeout`, shorter), with Python's log line. One being read by a worker right now is left for the next look.
    private func closeExpired(now: UInt64) {
        for stage in [ParkedConnections.Stage.waiting, .reading] {
            while true {
                let expired: EpollConnection? = parked.withLock { parked in
                    let limit = stage == .reading ? headerTimeoutMilliseconds : timeoutMilliseconds
                    guard let (fd, since, busy) = parked.oldest(in: stage), !busy, now >= since + limit else { return nil }
                    return parked.take(fd)
                }
                guard let expired else { break }
                if stage == .reading { expired.withHandler { $0.requestTimedOut() } }
                close(expired)
            }
        }
    }
}
