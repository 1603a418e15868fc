import Testing
@testable import LabLinkKit

@Suite struct LinkOptionsTests {
    @Test func timesRatesAndPercentagesParseAsTcWritesThem() throws {
        #expect(try LinkUnits.parseTime("50ms") == 50_000_000)
        #expect(try LinkUnits.parseTime("1.5ms") == 1_500_000)
        #expect(try LinkUnits.parseTime("200us") == 200_000)
        #expect(try LinkUnits.parseTime("2s") == 2_000_000_000)
        #expect(try LinkUnits.parseTime("0") == 0)
        #expect(try LinkUnits.parseRate("10mbit") == 10_000_000)
        #expect(try LinkUnits.parseRate("500kbit") == 500_000)
        #expect(try LinkUnits.parseRate("1Gbit") == 1_000_000_000)
        #expect(try LinkUnits.parsePercent("10%") == 10)
        #expect(try LinkUnits.parsePercent("0.5") == 0.5)
    }

    @Test func badValuesSayWhatIsExpected() {
        #expect(throws: LinkUnits.BadValue.self) { try LinkUnits.parseTime("50") }
        #expect(throws: LinkUnits.BadValue.self) { try LinkUnits.parseTime("-5ms") }
        #expect(throws: LinkUnits.BadValue.self) { try LinkUnits.parseRate("fast") }
        #expect(throws: LinkUnits.BadValue.self) { try LinkUnits.parseRate("0mbit") }
        #expect(throws: LinkUnits.BadValue.self) { try LinkUnits.parsePercent("101%") }
        #expect(throws: LinkUnits.BadValue.self) { try LinkUnits.checkPrefix("Lab") }
        #expect(throws: LinkUnits.BadValue.self) { try LinkUnits.checkPrefix("a-much-too-long") }
        do {
            _ = try LinkUnits.parseTime("50")
        } catch {
            #expect(error.description == "'50' is not a time: write it like 50ms, 1.5ms, 200us or 2s (at most 1 hour)")
        }
    }

    @Test func theReadinessLineIsTheIssuesExample() {
        var options = LinkOptions()
        options.delay = 50_000_000
        options.loss = 1
        options.seed = 7
        #expect(LabTopology(prefix: "st").readinessLine(options)
                == "link up: st-client 10.77.0.1 <-> st-server 10.77.0.2 (delay 50 ms each way, loss 1%, seed 7)")
        #expect(LinkOptions().summary == "no impairment")
        options = LinkOptions()
        options.rate = 10_000_000
        options.queue = 5
        options.drops = ["tcp[13] == 0x12"]
        #expect(options.summary == "rate 10 Mbit/s, queue 5 packets, 1 drop rule")
    }

    @Test func namesComeFromThePrefix() {
        let lab = LabTopology(prefix: "lab2")
        #expect([lab.clientNamespace, lab.serverNamespace, lab.clientDevice, lab.serverDevice]
                == ["lab2-client", "lab2-server", "lab2-c", "lab2-s"])
    }
}
