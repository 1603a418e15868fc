import Foundation
import Testing
import TestSupport

/// `--version` of the tools this test run built (plain `swift build`, debug): the BuildInfo plugin
/// runs in every build, not only in `make install`'s.
@Suite("Version")
struct VersionTests {
    @Test("every built tool prints 'sockettutor VERSION (commit)', exit 0", arguments: InstallLiveTests.knownTools)
    func version(tool: String) throws {
        let result = try runCommand(tool, ["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == [InstallLiveTests.expectedVersion], "\(result)")
    }
}
