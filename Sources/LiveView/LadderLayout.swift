import SocketCore
/// Where everything of one connection's ladder goes, in the units of the SVG (1000 wide).
///
/// Time runs down but not to scale: each moment (a packet, a system call starting or ending, a
/// state change) gets a row of its own, so 12 µs and 1 s both stay readable; a pause longer than
/// `longPause` is marked. The page (index.html) lays out the same way, with the same numbers.
struct LadderLayout {
    static let clientX = 290
    static let serverX = 710
    static let top = 118
    static let slope = 18
    static let gap = 40
    static let longPause = 0.05

    struct Moment {
        enum Kind {
            case arrow(LadderConnection.Arrow)
            case lost(LadderConnection.LostArrow)
            case state(LadderEvent.StateChange, ConnectionSide)
            case callStart(Int)   // index into `calls`
            case callEnd(Int)
        }
        var time: Double
        var order: Double
        var height: Int
        var kind: Kind
        var y = 0
    }

    struct Call {
        var call: LadderEvent.SystemCall
        var side: ConnectionSide
        var column = 0
        var top = 0
        var bottom = 0
    }

    var moments: [Moment] = []
    var calls: [Call] = []
    var pauses: [(y: Int, seconds: Double)] = []
    var height = 0

    init(_ connection: LadderConnection, in ladder: Ladder) {
        for (index, item) in connection.items {
            switch item {
            case .arrow(let arrow): moments.append(Moment(time: arrow.segment.time, order: Double(index), height: 78, kind: .arrow(arrow)))
            case .state(let change, let side): moments.append(Moment(time: change.time, order: Double(index), height: 36, kind: .state(change, side)))
            case .lost(let lost): moments.append(Moment(time: lost.packet.time, order: Double(index), height: 78, kind: .lost(lost)))
            }
        }
        for (index, call) in ladder.calls(of: connection) {
            guard let side = ladder.role(of: call) else { continue }
            moments.append(Moment(time: call.time, order: Double(index), height: 34, kind: .callStart(calls.count)))
            moments.append(Moment(time: call.time + call.duration, order: Double(index) + 0.5, height: 12, kind: .callEnd(calls.count)))
            calls.append(Call(call: call, side: side))
        }
        moments.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        placeRows()
        placeCalls()
    }

    /// Gives each moment its y, one row after the other, with room for the long pauses.
    private mutating func placeRows() {
        var y = Self.top
        var previous: Double?
        for position in moments.indices {
            if let previous, moments[position].time - previous > Self.longPause {
                pauses.append((y + Self.gap / 2, moments[position].time - previous))
                y += Self.gap
            }
            moments[position].y = y
            y += moments[position].height
            previous = moments[position].time
        }
        height = y + 40
    }

    /// A call's bar runs from the middle of its start row to the middle of its end row; calls of
    /// one end that overlap (a blocked recv() while another thread sends) take columns further out.
    private mutating func placeCalls() {
        var busyUntil: [ConnectionSide: [Double]] = [:]
        for moment in moments {
            switch moment.kind {
            case .callStart(let number):
                let call = calls[number].call
                let side = calls[number].side
                var columns = busyUntil[side, default: []]
                let column = columns.firstIndex { $0 <= call.time } ?? columns.count
                if column == columns.count { columns.append(0) }
                columns[column] = call.time + call.duration
                busyUntil[side] = columns
                calls[number].column = column
                calls[number].top = moment.y + moment.height / 2
            case .callEnd(let number):
                calls[number].bottom = max(moment.y + moment.height / 2, calls[number].top + 8)
            default:
                break
            }
        }
    }

    /// The last state written at each end: shown under the end's name.
    func finalState(_ side: ConnectionSide) -> String? {
        var last: String?
        for moment in moments {
            if case .state(let change, let at) = moment.kind, at == side { last = change.to }
        }
        return last
    }
}
