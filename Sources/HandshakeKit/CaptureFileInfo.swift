@preconcurrency import Glibc
import SocketCore

/// Reads just enough of a capture file's header to know its timestamp precision.
public enum CaptureFileInfo {
    /// True when both paths name one existing file (same device and inode, whatever the
    /// spelling): `-w` onto the `-r` file would truncate it before a packet is read.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let first = try? Syscall.fileStatus(path: a), let second = try? Syscall.fileStatus(path: b) else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// True when descriptor `fd` (stdin for `-r -`) is the file at `path`: `-w` onto it would
    /// truncate the input before a packet is read, whatever name the shell gave it.
    public static func sameFile(descriptor fd: Int32, _ path: String) -> Bool {
        guard let first = try? Syscall.fileStatus(fd), let second = try? Syscall.fileStatus(path: path) else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// True when `-r` names a pipe, a FIFO or a terminal rather than a regular file: reads
    /// there can stall, so each line is printed as it is made (`-` is stdin).
    public static func isStream(_ path: String) -> Bool {
        guard let info = try? (path == "-" ? Syscall.fileStatus(STDIN_FILENO) : Syscall.fileStatus(path: path)) else { return false }
        return info.st_mode & S_IFMT != S_IFREG
    }

    /// pcap: the magic number says it (a1b23c4d = nanoseconds). pcapng: the first interface's
    /// `if_tsresol` option (9 = 10^-9 s). libpcap converts either way; we only need the digits.
    static func hasNanosecondTimestamps(path: String) -> Bool {
        // Only regular files: peeking into a pipe (`-r /dev/stdin`) would eat bytes libpcap needs.
        guard let info = try? Syscall.fileStatus(path: path), info.st_mode & S_IFMT == S_IFREG,
              let head = try? Syscall.readHead(path, count: 4096) else { return false }
        let count = head.count
        guard count >= 4 else { return false }
        return head.withUnsafeBytes { raw -> Bool in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<count])
            let magic = bytes.u32(0)
            if magic == 0xA1B2_3C4D || magic == 0x4D3C_B2A1 { return true }
            guard magic == 0x0A0D_0D0A, count >= 12 else { return false }
            // pcapng: byte order from the section header's magic 0x1A2B3C4D.
            let littleEndian = bytes.u32(8) == 0x4D3C_2B1A
            func word(_ offset: Int) -> UInt32 { littleEndian ? bytes.u32LittleEndian(offset) : bytes.u32(offset) }
            func half(_ offset: Int) -> Int {
                littleEndian ? Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 : Int(bytes.u16(offset))
            }
            var block = 0
            while block + 12 <= count {
                let type = word(block), length = Int(word(block + 4))
                guard length >= 12, block + length <= count else { return false }
                if type == 1 {   // Interface Description Block: options start after 16 bytes
                    var option = block + 16
                    while option + 4 <= block + length - 4 {
                        let code = half(option), size = half(option + 2)
                        if code == 0 { break }
                        if code == 9, size == 1, option + 4 < count { return bytes[option + 4] == 9 }
                        option += 4 + (size + 3) / 4 * 4
                    }
                    return false
                }
                block += length
            }
            return false
        }
    }
}
