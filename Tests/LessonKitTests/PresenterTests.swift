import Testing
@testable import LessonKit

/// The bit of Markdown the runner renders for the terminal.
@Suite struct PresenterTests {
    @Test func plainTextWithoutColour() {
        let presenter = Presenter(isShowing: false, useColor: false)
        let text = "## Exercises\n**SYN** and `connect()`, see [the README](README.md)\n```\n# a shell comment\n**kept**\n```"
        #expect(presenter.render(text)
            == "Exercises\nSYN and `connect()`, see the README (README.md)\n```\n# a shell comment\n**kept**\n```")
    }

    @Test func boldAndCodeInColour() {
        let presenter = Presenter(isShowing: false, useColor: true)
        #expect(presenter.render("**SYN** `x`") == "\u{1B}[1mSYN\u{1B}[0m \u{1B}[36mx\u{1B}[0m")
    }
}
