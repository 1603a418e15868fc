import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("HTTPDate") struct HTTPDateTests {
    @Test func formats() {
        #expect(HTTPDate.string(from: 784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.string(from: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func parsesTheThreeForms() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784111777)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 +0000") == 784111777)
    }

    @Test func rejectsMalformedAndOtherZones() {
        #expect(HTTPDate.parse("yesterday") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 +0200") == nil)
    }

    /// Years, days and seconds Python's `datetime` refuses are not dates (the header is then
    /// ignored); a year near Int.max once overflowed the day arithmetic and killed the server.
    @Test func rejectsWhatPythonsDatetimeRejects() {
        #expect(HTTPDate.parse("Wed, 25 Nov 9223372036854775807 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Wed, 25 Nov 10000 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Wed, 25 Nov 0 00:00:00 GMT") == 975_110_400)   // year 0 means 2000, as in Python
        #expect(HTTPDate.parse("Sat, 30 Feb 2019 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 00:00:00 GMT") == 1_709_164_800)
        #expect(HTTPDate.parse("Thu, 29 Feb 2100 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Sun, 31 Apr 2019 00:00:00 GMT") == nil)
        #expect(HTTPDate.parse("Wed, 25 Nov 2026 23:59:60 GMT") == nil)
        #expect(HTTPDate.parse("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799)
    }

    /// Local time, as Python's `log_date_time_string`: checked against strftime(3) in the C
    /// locale (English month names), for two times whatever the machine's time zone.
    @Test func logFormat() {
        #expect(HTTPDate.logString(from: 784111777).count == "06/Nov/1994 08:49:37".count)
        for seconds in [784111777, 1_764_547_205] {
            var t = time_t(seconds)
            var parts = tm()
            localtime_r(&t, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            strftime(&buffer, buffer.count, "%d/%b/%Y %H:%M:%S", &parts)
            #expect(HTTPDate.logString(from: seconds) == String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }
}
