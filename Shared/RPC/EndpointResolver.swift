#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Where a client connects: a host name (which may resolve to several
/// addresses, as a compose service with replicas does) and a port.
public struct RPCTarget: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port" (an IPv6 literal in brackets: "[::1]:7001").
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

enum EndpointResolver {
    /// Every TCP address `target` resolves to, in a stable order. getaddrinfo
    /// blocks, so it runs on NIO's thread pool, not the concurrency pool.
    static func resolve(_ target: RPCTarget) async throws -> [SocketAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            try resolveBlocking(target)
        }
    }

    private static func resolveBlocking(_ target: RPCTarget) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &result)
        guard status == 0, let first = result else {
            throw RPCError(.unavailable, "cannot resolve \(target.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = try? SocketAddress(copying: info.pointee.ai_addr, length: info.pointee.ai_addrlen),
               !addresses.contains(address) {
                addresses.append(address)
            }
            cursor = info.pointee.ai_next
        }
        return addresses.sorted { $0.description < $1.description }
    }
}

extension SocketAddress {
    fileprivate init(copying pointer: UnsafeMutablePointer<sockaddr>, length: socklen_t) throws {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            self = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                SocketAddress($0.pointee, host: "")
            }
        case AF_INET6:
            self = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                SocketAddress($0.pointee, host: "")
            }
        default:
            throw RPCError(.unavailable, "unsupported address family")
        }
    }
}
