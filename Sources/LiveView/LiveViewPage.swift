/// The projector view's page (`Resources/index.html`): one self-contained HTML file with inline
/// CSS and JavaScript, compiled into the binary, so a server built on this module serves it
/// without reading the source tree and without anything from another origin.
public enum LiveViewPage {
    /// The page's bytes, UTF-8, as `GET /` sends them.
    public static var html: [UInt8] { PackageResources.index_html }

    /// The page's media type.
    public static let contentType = "text/html; charset=utf-8"
}
