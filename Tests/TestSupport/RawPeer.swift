import Foundation

/// A raw TCP peer for sending bytes the real client never would. Its reads
/// block, so they run on a dispatch queue: blocking the few threads of the
/// Swift concurrency pool would stall the server under test.
public final class RawPeer: @unchecked Sendable {
    public let socket: Int32

    public init(port: Int) throws {
        socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw ServiceProcessError("raw connect to port \(port) failed") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(socket) }

    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Foundation.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    public func sendFrame(_ payload: [UInt8]) {
        let length = UInt32(payload.count)
        send([UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + payload)
    }

    /// Reads one frame's bytes, or nil when the server closed the connection.
    public func readFrameBytes() async -> [UInt8]? {
        await offPool { self.readFrameBytesBlocking() }
    }

    private func readFrameBytesBlocking() -> [UInt8]? {
        guard let header = read(count: 4) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        return read(count: length)
    }

    /// Everything the server sends until it closes the connection (or the
    /// 5-second read timeout passes).
    public func readUntilClosed() async -> [UInt8] {
        await offPool {
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16_384)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(self.socket, $0.baseAddress!, $0.count, 0) }
                guard n > 0 else { return received }
                received += chunk[..<n]
            }
        }
    }

    /// True when the server has closed its side (read returns 0).
    public func isClosedByServer() async -> Bool {
        await offPool {
            var byte: UInt8 = 0
            return recv(self.socket, &byte, 1, 0) == 0
        }
    }

    private func read(count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + received, count - received, 0) }
            guard n > 0 else { return nil }
            received += n
        }
        return buffer
    }
}


/// Runs blocking work on a dispatch queue and awaits its result.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
