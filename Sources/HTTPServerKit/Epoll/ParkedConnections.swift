/// The connections waiting for their client, each by its descriptor, in two lists ordered by
/// how long they have been waiting. A connection being served is not here: a worker takes it
/// out when epoll reports it readable, and parks it again when it waits for more.
///
/// - `waiting`: nothing of a request has arrived yet (a new connection, or a keep-alive one
///   between requests). These cost nobody anything but a descriptor, so when the server runs
///   out of connections, the oldest of them is closed to admit a new client, as nginx does
///   (`ngx_drain_connections` over its reusable connections).
/// - `reading`: part of a request head has arrived. Never closed early: a request is on its way.
///
/// Either kind is closed when it has waited `--timeout` seconds (nginx's
/// `keepalive_timeout` and `client_header_timeout`). Adding a connection puts it at the newest
/// end of its list, so each list stays in order of time and the next to expire is always first:
/// no scan, however many connections wait.
final class ParkedConnections {
    enum Stage: Int {
        case waiting = 0
        case reading = 1
    }

    private struct Entry {
        let connection: EpollConnection
        let stage: Stage
        let since: UInt64
        /// A worker is reading it right now (see `borrow`): not to be closed meanwhile.
        var busy = false
        var older: Int32 = -1
        var newer: Int32 = -1
    }

    /// Indexed by descriptor: the kernel hands out the lowest free number, so the array stays
    /// as long as the most connections open at once, and a lookup costs no hashing.
    private var entries: [Entry?] = []
    private(set) var count = 0
    /// Per stage, the oldest and newest descriptor (-1: the list is empty).
    private var oldest: [Int32] = [-1, -1]
    private var newest: [Int32] = [-1, -1]

    /// Adds `connection` at the newest end of `stage`'s list, waiting since `now` (ms).
    func park(_ connection: EpollConnection, stage: Stage, now: UInt64) {
        let fd = connection.descriptor
        var entry = Entry(connection: connection, stage: stage, since: now)
        entry.older = newest[stage.rawValue]
        if entry.older >= 0 { entries[Int(entry.older)]!.newer = fd } else { oldest[stage.rawValue] = fd }
        newest[stage.rawValue] = fd
        if Int(fd) >= entries.count { entries.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - entries.count)) }
        if entries[Int(fd)] == nil { count += 1 }
        entries[Int(fd)] = entry
    }

    /// Removes the connection on `fd` from its list and returns it.
    @discardableResult
    func take(_ fd: Int32) -> EpollConnection? {
        guard let entry = self[fd] else { return nil }
        entries[Int(fd)] = nil
        count -= 1
        let list = entry.stage.rawValue
        if entry.older >= 0 { entries[Int(entry.older)]!.newer = entry.newer } else { oldest[list] = entry.newer }
        if entry.newer >= 0 { entries[Int(entry.newer)]!.older = entry.older } else { newest[list] = entry.older }
        return entry.connection
    }

    /// Marks the connection on `fd` busy and returns it, leaving it in its place in the list:
    /// a worker reads what arrived, then takes it out or gives it back.
    func borrow(_ fd: Int32) -> (connection: EpollConnection, stage: Stage)? {
        guard let entry = self[fd], !entry.busy else { return nil }
        entries[Int(fd)]!.busy = true
        return (entry.connection, entry.stage)
    }

    /// Ends a `borrow`: the connection waits on, in its place.
    func giveBack(_ fd: Int32) {
        if self[fd] != nil { entries[Int(fd)]!.busy = false }
    }

    /// The connection that has waited longest in `stage`, since when, and whether a worker
    /// is reading it.
    func oldest(in stage: Stage) -> (fd: Int32, since: UInt64, busy: Bool)? {
        let fd = oldest[stage.rawValue]
        guard fd >= 0, let entry = self[fd] else { return nil }
        return (fd, entry.since, entry.busy)
    }

    /// The entry for `fd`, if one is parked there.
    private subscript(fd: Int32) -> Entry? {
        fd >= 0 && Int(fd) < entries.count ? entries[Int(fd)] : nil
    }
}
