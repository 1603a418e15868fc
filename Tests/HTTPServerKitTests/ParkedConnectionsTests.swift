import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("ParkedConnections") struct ParkedConnectionsTests {
    func connection() throws -> EpollConnection {
        let socket = try Socket(family: AF_INET)
        return EpollConnection(socket: socket, handler: RequestHandler(socket: socket, clientAddress: "-"))
    }

    @Test func oldestFirstPerStageAndTakeUnlinks() throws {
        let parked = ParkedConnections()
        let a = try connection(), b = try connection(), c = try connection()
        parked.park(a, stage: .waiting, now: 1)
        parked.park(b, stage: .waiting, now: 2)
        parked.park(c, stage: .reading, now: 3)
        #expect(parked.oldest(in: .waiting)?.fd == a.descriptor)
        #expect(parked.oldest(in: .reading)?.fd == c.descriptor)
        #expect(parked.take(a.descriptor) === a)
        #expect(parked.oldest(in: .waiting)?.fd == b.descriptor)
        #expect(parked.oldest(in: .waiting)?.since == 2)
        parked.take(b.descriptor)
        #expect(parked.oldest(in: .waiting) == nil)
        #expect(parked.count == 1)
        #expect(parked.take(a.descriptor) == nil)   // already taken
    }

    @Test func takingFromTheMiddleKeepsTheOrder() throws {
        let parked = ParkedConnections()
        let list = try (0..<5).map { _ in try connection() }
        for (index, item) in list.enumerated() { parked.park(item, stage: .waiting, now: UInt64(index)) }
        parked.take(list[2].descriptor)
        parked.take(list[0].descriptor)
        var order: [Int32] = []
        while let (fd, _, _) = parked.oldest(in: .waiting) { order.append(fd); parked.take(fd) }
        #expect(order == [list[1], list[3], list[4]].map(\.descriptor))
    }

    @Test func aBorrowedConnectionKeepsItsPlaceAndIsMarkedBusy() throws {
        let parked = ParkedConnections()
        let a = try connection(), b = try connection()
        parked.park(a, stage: .waiting, now: 1)
        parked.park(b, stage: .waiting, now: 2)
        #expect(parked.borrow(a.descriptor)?.connection === a)
        #expect(parked.borrow(a.descriptor) == nil)   // one worker at a time
        #expect(parked.oldest(in: .waiting)?.busy == true)
        parked.giveBack(a.descriptor)
        #expect(parked.oldest(in: .waiting)?.fd == a.descriptor)
        #expect(parked.oldest(in: .waiting)?.busy == false)
    }
}
