import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("ByteRangeSelection") struct ByteRangeSelectionTests {
    @Test func severalRangesFollowNginx() {
        #expect(ByteRangeSelection.parse("bytes=0-9,20-29", size: 100) == .ranges([0..<10, 20..<30]))
        #expect(ByteRangeSelection.parse("bytes=0-9, -5", size: 100) == .ranges([0..<10, 95..<100]))
        #expect(ByteRangeSelection.parse("bytes=0-9,200-300", size: 100) == .ranges([0..<10]))   // past the end: dropped
        #expect(ByteRangeSelection.parse("bytes=200-300,400-", size: 100) == .unsatisfiable)
        #expect(ByteRangeSelection.parse("bytes=0-9,x", size: 100) == .unsatisfiable)
        #expect(ByteRangeSelection.parse("bytes=0-99,0-99", size: 100) == .whole)   // more than the file
        #expect(ByteRangeSelection.parse("bytes=0-59,50-99", size: 100) == .whole)
        #expect(ByteRangeSelection.parse("bytes=0-9,5-14", size: 100) == .ranges([0..<10, 5..<15]))
        #expect(ByteRangeSelection.parse("items=0-9,20-29", size: 100) == .whole)
    }
}
