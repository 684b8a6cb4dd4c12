import CPoll
import Foundation
import Glibc
import NIOCore
import Protos
import RPC

/// Resolve calls driven from one thread over non-blocking sockets and epoll,
/// as redis-benchmark drives Redis: each connection's calls are written into
/// one buffer and sent with one `send`, and each readable connection is read
/// once and its answers timed in place. On a machine of two cores shared with
/// the server, the load generator's CPU is taken from lookup: through
/// SwiftNIO channels it spent 10.0 µs a call at 1 in flight and 2.0 µs at
/// 16; this way, 7.3–8.0 and 1.5–1.7 (redis-benchmark: 10.7–11.1 and
/// 0.8–1.1). Each answer's envelope is decoded and its status checked; the
/// route inside is not decoded (redis-benchmark does not parse values).
final class ResolveDriver: @unchecked Sendable {
    private let connections: [Connection]
    private let epoll: CInt
    private let template: Template
    /// Reads land here; an incomplete answer waits in its connection.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 8)

    /// Connects `connections` sockets to lookup on 127.0.0.1:`port`.
    init(port: Int, token: String, connections count: Int, numbers: Int) throws {
        template = Template(token: token, numbers: numbers)
        epoll = cpoll_create()
        var made: [Connection] = []
        do {
            for index in 0..<count {
                made.append(Connection(fd: try Self.connect(port: port), index: index))
                cpoll_control(epoll, CPOLL_ADD, made[index].fd, CPOLL_IN, UInt64(index))
            }
        } catch {
            for connection in made { Glibc.close(connection.fd) }
            Glibc.close(epoll)
            readBuffer.deallocate()
            throw error
        }
        connections = made
    }

    func close() {
        for connection in connections where connection.isOpen { Glibc.close(connection.fd) }
        Glibc.close(epoll)
        readBuffer.deallocate()
    }

    /// `inFlight` calls per connection, each answered call replaced by a new
    /// one, until `end`; then waits for the calls still out.
    /// With `batched`, as redis-benchmark -P: the calls go out together and
    /// the next batch when all are answered.
    func closedLoop(inFlight: Int, batched: Bool, until end: NIODeadline, phase: Int) async -> Load.Outcome {
        await onOwnThread { $0.drive(.closed(inFlight: inFlight, batched: batched), until: end, phase: phase) }
    }

    /// `rate` calls/s in total, round robin over the connections, without
    /// waiting for answers: the calls due are sent every 100 µs or more (on
    /// 2 shared cores a wake-up per call costs more than the call).
    func paced(rate: Double, until end: NIODeadline, phase: Int) async -> Load.Outcome {
        await onOwnThread { $0.drive(.paced(rate: rate), until: end, phase: phase) }
    }

    private enum Mode {
        case closed(inFlight: Int, batched: Bool)
        case paced(rate: Double)
    }

    /// Runs `body` on a thread of its own: the phase blocks in epoll, which
    /// Swift concurrency's threads must not.
    private func onOwnThread(_ body: @escaping @Sendable (ResolveDriver) -> Load.Outcome) async -> Load.Outcome {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body(self)) }.start()
        }
    }

    // MARK: The loop

    private func drive(_ mode: Mode, until end: NIODeadline, phase: Int) -> Load.Outcome {
        cpoll_precise_timers()
        var outcome = Load.Outcome()
        for (index, connection) in connections.enumerated() {
            connection.random = FastRandom(state: UInt64(phase) << 32 | UInt64(index))
        }
        if case .closed(let inFlight, _) = mode {
            for connection in connections {
                for _ in 0..<inFlight { connection.call(template, &outcome) }
                flush(connection)
            }
        }
        let start = NIODeadline.now()
        var paced = 0  // calls the pacer has sent
        var events = [UInt32](repeating: 0, count: Int(CPOLL_MAX_EVENTS))
        var tags = [UInt64](repeating: 0, count: Int(CPOLL_MAX_EVENTS))
        while true {
            let now = NIODeadline.now()
            let sending = now < end && outcome.errors <= 1_000
            var timeout = sending ? min(end - now, .milliseconds(10)) : .milliseconds(10)
            if case .paced(let rate) = mode, sending {
                let due = Int(Double((now - start).nanoseconds) / 1e9 * rate)
                if paced < due {
                    let time = start + .nanoseconds(Int64(Double(paced) / rate * 1e9))
                    outcome.pacerLagMicros = max(outcome.pacerLagMicros, (now - time).nanoseconds / 1000)
                }
                while paced < due {
                    let connection = connections[paced % connections.count]
                    connection.call(template, &outcome)
                    flush(connection)
                    paced += 1
                }
                // The next calls go out together at least 100 µs later: a wake-up per call
                // cost the load generator 18 µs a call (against 16) and lengthened the tail.
                timeout = max(start + .nanoseconds(Int64(Double(paced + 1) / rate * 1e9)) - now, .microseconds(100))
            }
            if !sending, connections.allSatisfy({ $0.outstanding == 0 }) || now > end + .seconds(5) { break }
            let count = cpoll_wait_ns(epoll, &events, &tags, max(0, timeout.nanoseconds))
            for slot in 0..<max(0, Int(count)) {
                let connection = connections[Int(tags[slot])]
                if events[slot] & (CPOLL_IN | CPOLL_ERR | CPOLL_HUP) != 0 {
                    read(connection, &outcome, mode: mode, sending: sending)
                }
                flush(connection)
            }
        }
        return outcome
    }

    /// Reads what arrived once (epoll reports the rest again) and records
    /// each whole answer; in a closed loop each answer is replaced.
    private func read(_ connection: Connection, _ outcome: inout Load.Outcome, mode: Mode, sending: Bool) {
        guard connection.isOpen else { return }
        let kept = connection.partial.count
        connection.partial.withUnsafeBytes { readBuffer.copyMemory(from: $0) }
        connection.partial.removeAll(keepingCapacity: true)
        let received = recv(connection.fd, readBuffer.baseAddress! + kept, readBuffer.count - kept, 0)
        guard received > 0 || (received < 0 && (errno == EAGAIN || errno == EINTR)) else {
            lose(connection, &outcome, "connection closed")
            return
        }
        let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<kept + max(0, received)])
        var offset = 0
        while bytes.count - offset >= 4 {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).bigEndian)
            guard length <= readBuffer.count - 4 else {
                lose(connection, &outcome, "an answer of \(length) bytes, larger than the read buffer")
                return
            }
            guard bytes.count - offset - 4 >= length else { break }
            connection.answered(UnsafeRawBufferPointer(rebasing: bytes[offset + 4..<offset + 4 + length]), &outcome)
            offset += 4 + length
            guard sending, case .closed(let inFlight, let batched) = mode else { continue }
            if !batched {
                connection.call(template, &outcome)
            } else if connection.outstanding == 0 {
                for _ in 0..<inFlight { connection.call(template, &outcome) }
            }
        }
        connection.partial.append(contentsOf: bytes[offset...])
    }

    /// Sends what the connection has written; what the socket does not take
    /// waits for it to be writable.
    private func flush(_ connection: Connection) {
        guard connection.isOpen, !connection.out.isEmpty else { return }
        let sent = connection.out.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent > 0 { connection.out.removeFirst(sent) }
        let waiting = !connection.out.isEmpty
        if waiting != connection.awaitsWritable {
            connection.awaitsWritable = waiting
            cpoll_control(epoll, CPOLL_MOD, connection.fd, waiting ? CPOLL_IN | CPOLL_OUT : CPOLL_IN, UInt64(connection.index))
        }
    }

    /// A connection that failed: its calls out are errors, and it makes no more.
    private func lose(_ connection: Connection, _ outcome: inout Load.Outcome, _ failure: String) {
        connection.failAll(failure, &outcome)
        cpoll_control(epoll, CPOLL_DEL, connection.fd, 0, 0)
        Glibc.close(connection.fd)
        connection.isOpen = false
    }

    private static func connect(port: Int) throws -> CInt {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DriverError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var one: CInt = 1
        guard connected == 0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0,
              setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size)) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw DriverError("connecting to 127.0.0.1:\(port): \(reason)")
        }
        return fd
    }

    struct DriverError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Template {
        var numbers: Int
        /// The request envelope (method, token, timeout) without its payload,
        /// which is its last field: each call appends its own.
        var request: [UInt8]

        init(token: String, numbers: Int) {
            self.numbers = numbers
            var request = RpcV1.Request()
            request.method = LookupMethods.resolve
            request.metadata = [MetadataKey.authorization: "Bearer \(token)"]
            request.timeoutMicros = 5_000_000
            self.request = request.serializedBytes()
        }
    }
}

/// One connection: the calls it has written but not sent, the start of an
/// answer not yet whole, and its calls out (by call id modulo the ring's size).
private final class Connection {
    let fd: CInt
    /// Its place in the driver's list, and its epoll tag.
    let index: Int
    var isOpen = true
    var awaitsWritable = false
    var random = FastRandom(state: 0)
    var out: [UInt8] = []
    var partial: [UInt8] = []
    private(set) var outstanding = 0
    private var nextCallID: UInt64 = 1
    private static let ringSize = 4096
    private var sentCallIDs = [UInt64](repeating: 0, count: Connection.ringSize)
    private var sentNanos = [UInt64](repeating: 0, count: Connection.ringSize)

    init(fd: CInt, index: Int) {
        self.fd = fd
        self.index = index
        out.reserveCapacity(16 * 1024)
        partial.reserveCapacity(16 * 1024)
    }

    /// Writes one Resolve of a random seeded number (sent at the next flush).
    func call(_ template: ResolveDriver.Template, _ outcome: inout Load.Outcome) {
        guard isOpen else { return }
        let slot = Int(nextCallID % UInt64(Self.ringSize))
        guard sentCallIDs[slot] == 0 else {
            outcome.record(sent: nil, failure: "more than \(Self.ringSize) calls out on one connection")
            return
        }
        let number = SeedSet.e164(Int.random(in: 0..<template.numbers, using: &random))
        let payload = 2 + number.utf8.count  // ResolveRequest { number = 1 }
        let request = template.request.count + 2 + payload
        let frame = 1 + ProtoWriter.varintSize(nextCallID) + 1 + ProtoWriter.varintSize(UInt64(request)) + request
        withUnsafeBytes(of: UInt32(frame).bigEndian) { out.append(contentsOf: $0) }
        out.append(1 << 3)  // Frame.call_id
        appendVarint(nextCallID)
        out.append(2 << 3 | 2)  // Frame.request
        appendVarint(UInt64(request))
        out.append(contentsOf: template.request)
        out.append(contentsOf: [4 << 3 | 2, UInt8(payload), 1 << 3 | 2, UInt8(number.utf8.count)])  // Request.payload
        out.append(contentsOf: number.utf8)
        sentCallIDs[slot] = nextCallID
        sentNanos[slot] = NIODeadline.now().uptimeNanoseconds
        nextCallID += 1
        outstanding += 1
    }

    /// One answer frame: its latency, or its error.
    func answered(_ frame: UnsafeRawBufferPointer, _ outcome: inout Load.Outcome) {
        guard let (callID, failed) = Self.answer(frame), let sent = takeSent(callID) else {
            outcome.record(sent: nil, failure: "an undecodable or unexpected frame")
            return
        }
        if failed, let decoded = try? RpcV1.Frame(serializedBytes: frame), case .response(let response) = decoded.kind,
           let status = response.status {
            outcome.record(sent: sent, failure: "\(status.code): \(status.message)")
        } else {
            outcome.record(sent: sent, failure: failed ? "an undecodable error answer" : nil)
        }
    }

    func failAll(_ failure: String, _ outcome: inout Load.Outcome) {
        for slot in sentCallIDs.indices where sentCallIDs[slot] != 0 {
            outcome.record(sent: NIODeadline.uptimeNanoseconds(sentNanos[slot]), failure: failure)
            sentCallIDs[slot] = 0
        }
        outstanding = 0
    }

    private func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    /// When the call `callID` was sent, if it is out (it is no longer).
    private func takeSent(_ callID: UInt64) -> NIODeadline? {
        let slot = Int(callID % UInt64(Self.ringSize))
        guard callID != 0, sentCallIDs[slot] == callID else { return nil }
        sentCallIDs[slot] = 0
        outstanding -= 1
        return NIODeadline.uptimeNanoseconds(sentNanos[slot])
    }

    /// A response frame's call id and whether its status is not OK; nil for
    /// any other frame.
    private static func answer(_ frame: UnsafeRawBufferPointer) -> (callID: UInt64, failed: Bool)? {
        var fields = ProtoFieldReader(frame)
        var callID: UInt64 = 0
        var response: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .varint(let id)): callID = id
            case (4, .bytes(let bytes)): response = bytes
            default: return nil
            }
        }
        guard !fields.isMalformed, let response else { return nil }
        fields = ProtoFieldReader(response)
        var failed = false
        while let field = fields.next() {
            // Response.status: OK is an empty message (code 0 left out).
            if field.number == 1, case .bytes(let status) = field.value { failed = !status.isEmpty }
        }
        return fields.isMalformed ? nil : (callID, failed)
    }
}
