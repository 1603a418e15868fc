/// `&`, `<`, `>` to entities: Python's `html.escape(text, quote=False)`, on raw bytes.
///
/// The listing and the error page escape every piece of text that came from outside (a file
/// name, the request path, an error message) so it can never become markup: a file named
/// `<script>.txt` shows as text.
public enum HTMLEscaping {
    /// Appends `bytes` to `output`, escaped. Bytes that are not ASCII are copied unchanged.
    public static func escape(_ bytes: some Sequence<UInt8>, into output: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
            default: output.append(byte)
            }
        }
    }

    /// The escaped text as a `String`.
    public static func escape(_ text: String) -> String {
        var output: [UInt8] = []
        escape(text.utf8, into: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
