import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("ByteRange") struct ByteRangeTests {
    @Test func forms() {
        #expect(ByteRange.parse("bytes=0-499", size: 1000) == .satisfiable(0...499))
        #expect(ByteRange.parse("bytes=500-", size: 1000) == .satisfiable(500...999))
        #expect(ByteRange.parse("bytes=-100", size: 1000) == .satisfiable(900...999))
        #expect(ByteRange.parse("bytes=-5000", size: 1000) == .satisfiable(0...999))
        #expect(ByteRange.parse("bytes=-99999999999999999999", size: 1000) == .satisfiable(0...999))
        #expect(ByteRange.parse("bytes=-0", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-0", size: 1000) == .satisfiable(0...0))
        #expect(ByteRange.parse("bytes=0-0", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-5000", size: 1000) == .satisfiable(0...999))
        #expect(ByteRange.parse("bytes=1000-", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-0", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-1,5-6", size: 1000) == .ignored)
        #expect(ByteRange.parse("items=0-1", size: 1000) == .ignored)
        #expect(ByteRange.parse("bytes=5-1", size: 1000) == .ignored)
    }
}
