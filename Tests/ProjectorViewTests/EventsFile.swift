import Foundation
import LiveView

/// Reads a JSON Lines file of timeline events (the --format json schema) into ladder events.
/// Test-only glue until the shared timeline types land; unknown types are skipped, as readers must.
enum EventsFile {
    static func events(jsonLines text: String) throws -> [LadderEvent] {
        try text.split(separator: "\n").compactMap { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return event(object)
        }
    }

    static func events(atFixture name: String) throws -> [LadderEvent] {
        try events(jsonLines: String(contentsOf: fixture(name), encoding: .utf8))
    }

    static func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    static func event(_ o: [String: Any]) -> LadderEvent? {
        let time = o["time"] as? Double ?? 0
        switch o["type"] as? String {
        case "packet":
            return .packet(.init(time: time, source: endpoint(o["src"], o["sport"]), destination: endpoint(o["dst"], o["dport"]),
                                 flags: o["flags"] as? [String] ?? [], sequence: UInt32(o["seq"] as? Int ?? 0),
                                 acknowledgement: UInt32(o["ack"] as? Int ?? 0), length: o["len"] as? Int ?? 0,
                                 connection: o["conn"] as? Int ?? 0, step: o["step"] as? String ?? ""))
        case "syscall":
            return .syscall(.init(time: time, duration: o["duration"] as? Double ?? 0, label: o["label"] as? String ?? "",
                                  pid: o["pid"] as? Int ?? 0, call: o["call"] as? String ?? "", text: o["text"] as? String ?? ""))
        case "state":
            return .state(.init(time: time, local: endpoint(o["local"], o["lport"]), remote: endpoint(o["remote"], o["rport"]),
                                from: o["from"] as? String ?? "", to: o["to"] as? String ?? "", connection: o["conn"] as? Int))
        case "connection":
            return .connection(.init(connection: o["conn"] as? Int ?? 0, client: o["client"] as? String ?? "",
                                     server: o["server"] as? String ?? "", outcome: o["outcome"] as? String ?? "",
                                     connState: o["conn_state"] as? String))
        default:
            return nil
        }
    }

    static func endpoint(_ address: Any?, _ port: Any?) -> LadderEndpoint {
        LadderEndpoint(address: address as? String ?? "", port: port as? Int ?? 0)
    }
}
