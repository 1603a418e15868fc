/// The projector view's page (`Resources/index.html`): one self-contained HTML file with inline
/// CSS and JavaScript, compiled into the binary, so a server built on this module serves it
/// without reading the source tree and without anything from another origin.
///
/// What the page asks of the server (all URLs relative to the page, so a path prefix works):
///
/// - `GET events`: `text/event-stream`. One message per timeline event, its `data:` the event's
///   JSON line (the `--format json` schema), each with `id: N`, N counting 1, 2, 3... The stream
///   starts after the request's `Last-Event-ID` header (the browser's own reconnect), else after
///   `?after=N` (a fresh stream once the page has reloaded `events.jsonl`), else at the oldest
///   event kept. Every stream opens with `event: source`, `data: {"source":"live"}` for a live
///   capture or `{"source":"replay"}` for a file: the page's badge says which (and `ended` after
///   `event: end`), never `live` for a file. An id older than the events kept gets `event: reset` and the page reloads.
///   At the end (SIGINT, SIGTERM) the server sends `event: end`: the page stops reconnecting.
///   `reset` and `end` need a non-empty `data:` line (`data: {}`), or EventSource never
///   dispatches them. Comment lines (`: keep-alive`) keep an idle stream open; `retry: 500`
///   makes reconnects quick.
/// - `GET events.jsonl`: every event kept, one JSON line each, with the response header
///   `Last-Event-ID: N` (the id of the last line; ids are consecutive), where the page resumes.
/// - `GET words.json`: `StepWording.json`, the one table of every step's and finding's caption and sentence;
///   the page loads it before opening the stream and only fills it in.
/// - `GET ladder.svg?conn=N`: `SVGLadderWriter.svg(_:connection:)` of the events kept (the page
///   links the selected connection's; without `conn`, every connection).
///
/// `Tests/Browser/fake_server.py` implements exactly this, to develop and test the page.
public enum LiveViewPage {
    /// The page's bytes, UTF-8, as `GET /` sends them.
    public static var html: [UInt8] { PackageResources.index_html }

    /// The page's media type.
    public static let contentType = "text/html; charset=utf-8"
}
