import SocketCore

/// One thing that happened, stamped where it happened: the unit of every timeline.
///
/// Packets (libpcap), system calls (`--trace`), program output and kernel events all take this
/// one shape, a JSON object with a `type` and a `time` (see EVENTS.md):
///
///     {"type":"syscall","time":1795642942.605001,"duration":0.000312,"label":"client",
///      "pid":4242,"call":"connect","text":"connect(fd 3, 127.0.0.1:38633) -> 0"}
///
/// The other fields stay an ordered list, so an event read from a file and written back is the
/// same line, and a type this build does not know passes through untouched.
public struct TimelineEvent: Sendable, Equatable {
    public var type: String
    public var time: EpochTime
    /// Every field but `type` and `time`, in the order they are written.
    public var fields: [(String, JSONValue)]

    public init(type: String, time: EpochTime, fields: [(String, JSONValue)] = []) {
        self.type = type
        self.time = time
        self.fields = fields
    }

    public static func == (a: TimelineEvent, b: TimelineEvent) -> Bool {
        a.type == b.type && a.time == b.time && JSONValue.object(a.fields) == JSONValue.object(b.fields)
    }

    public subscript(key: String) -> JSONValue? {
        get { fields.first { $0.0 == key }?.1 }
        set {
            if let index = fields.firstIndex(where: { $0.0 == key }) {
                if let newValue { fields[index].1 = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append((key, newValue))
            }
        }
    }

    public func string(_ key: String) -> String? { self[key]?.stringValue }
    public func int(_ key: String) -> Int? { self[key]?.intValue }
    public func double(_ key: String) -> Double? { self[key]?.doubleValue }

    // MARK: - The types every source shares

    /// A system call, as `--trace` saw it: `time` is when it started, `duration` how long it took.
    public static func syscall(time: EpochTime, duration: Double, label: String, pid: Int,
                               call: String, text: String) -> TimelineEvent {
        TimelineEvent(type: "syscall", time: time, fields: [
            ("duration", .fixed(duration, decimals: 6)), ("label", .string(label)),
            ("pid", .integer(pid)), ("call", .string(call)), ("text", .string(text)),
        ])
    }

    /// A line a program wrote on stdout or stderr.
    public static func output(time: EpochTime, label: String, stream: String, text: String) -> TimelineEvent {
        TimelineEvent(type: "output", time: time, fields: [
            ("label", .string(label)), ("stream", .string(stream)), ("text", .string(text)),
        ])
    }

    /// A span's length in seconds: a system call has one, every other event is a point.
    public var duration: Double? { type == "syscall" ? double("duration") : nil }

    /// When the event ended: a call's return, or the event's own time for a point.
    public var end: EpochTime {
        guard let duration, duration > 0 else { return time }
        return time.adding(seconds: duration)
    }

    /// Who made it: a process's label in a lesson or a recording (`client`, `server`).
    public var label: String? { string("label") }

    // MARK: - JSON Lines

    /// The event as one line of JSON, keys in schema order: type, time, then the rest.
    public var jsonLine: String {
        var out: [UInt8] = []
        out.reserveCapacity(512)   // one allocation for most lines, not one per doubling
        out.append(contentsOf: "{\"type\":".utf8)
        JSONValue.writeString(type, to: &out)
        out.append(contentsOf: ",\"time\":".utf8)
        out.append(contentsOf: time.description.utf8)
        for (key, value) in fields where key != "type" && key != "time" {
            out.append(UInt8(ascii: ","))
            JSONValue.writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            value.write(to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Why a line is not an event.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case json(JSONReader.Failure)
        case notAnObject
        case missingType
        case badTime
        public var description: String {
            switch self {
            case .json(let failure): return "not JSON: \(failure)"
            case .notAnObject: return "not a JSON object"
            case .missingType: return "no \"type\" string"
            case .badTime: return "no \"time\" in epoch seconds"
            }
        }
    }

    /// Reads one JSON Lines line. `time` must be a plain number of epoch seconds.
    public init(jsonLine line: some StringProtocol) throws(ParseError) {
        let value: JSONValue
        do { value = try JSONReader.parse(line) } catch { throw .json(error) }
        guard case .object(let all) = value else { throw .notAnObject }
        guard case .string(let type)? = all.first(where: { $0.0 == "type" })?.1 else { throw .missingType }
        guard case .number(let text)? = all.first(where: { $0.0 == "time" })?.1,
              let time = EpochTime(parsing: Substring(text)) else { throw .badTime }
        self.init(type: type, time: time, fields: all.filter { $0.0 != "type" && $0.0 != "time" })
    }
}
