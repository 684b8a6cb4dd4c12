import CPoll
import Foundation
import Glibc
import NIOCore

/// Calls of random seeded numbers (lookup's Resolve or Redis' GET, `Wire`)
/// driven from one thread over non-blocking sockets and epoll, as
/// redis-benchmark drives Redis: each connection's calls are written into
/// one buffer and sent with one `send`, and each readable connection is read
/// once and its answers timed in place. On a machine of two cores shared with
/// the server, the load generator's CPU is taken from lookup: through
/// SwiftNIO channels it spent 10.0 µs a call at 1 in flight and 2.0 µs at
/// 16; this way, 7.3–8.0 and 1.5–1.7 (redis-benchmark: 10.7–11.1 and
/// 0.8–1.1).
final class CallDriver: @unchecked Sendable {
    private let connections: [Connection]
    private let epoll: CInt
    private let wire: Wire
    private let numbers: Int
    /// The seeded number a call asks for, from a uniformly drawn index.
    private let draw: (Int) -> Int
    /// Reads land here; an incomplete answer waits in its connection.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 8)

    /// Connects `connections` sockets to the server on 127.0.0.1:`port`.
    init(port: Int, wire: Wire, connections count: Int, numbers: Int, draw: @escaping (Int) -> Int = { $0 }) throws {
        self.wire = wire
        self.numbers = numbers
        self.draw = draw
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
    private func onOwnThread(_ body: @escaping @Sendable (CallDriver) -> Load.Outcome) async -> Load.Outcome {
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
                for _ in 0..<inFlight { call(connection, &outcome) }
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
                    call(connection, &outcome)
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
        answers: while offset < bytes.count {
            switch wire.answer(at: UnsafeRawBufferPointer(rebasing: bytes[offset...]), maximum: readBuffer.count) {
            case .incomplete:
                break answers
            case .malformed(let failure):
                lose(connection, &outcome, failure)
                return
            case .whole(let length, let callID, let failure):
                connection.answered(callID: callID, failure: failure, &outcome)
                offset += length
            }
            guard sending, case .closed(let inFlight, let batched) = mode else { continue }
            if !batched {
                call(connection, &outcome)
            } else if connection.outstanding == 0 {
                for _ in 0..<inFlight { call(connection, &outcome) }
            }
        }
        connection.partial.append(contentsOf: bytes[offset...])
    }

    /// Writes one call of a random seeded number (sent at the next flush).
    private func call(_ connection: Connection, _ outcome: inout Load.Outcome) {
        guard connection.isOpen, let callID = connection.nextCall(&outcome) else { return }
        wire.writeCall(index: draw(Int.random(in: 0..<numbers, using: &connection.random)), callID: callID, to: &connection.out)
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

    /// Takes the next call id and its time, unless too many calls are out.
    func nextCall(_ outcome: inout Load.Outcome) -> UInt64? {
        let slot = Int(nextCallID % UInt64(Self.ringSize))
        guard sentCallIDs[slot] == 0 else {
            outcome.record(sent: nil, failure: "more than \(Self.ringSize) calls out on one connection")
            return nil
        }
        defer { nextCallID += 1 }
        sentCallIDs[slot] = nextCallID
        sentNanos[slot] = NIODeadline.now().uptimeNanoseconds
        outstanding += 1
        return nextCallID
    }

    /// An answer to `callID`, or to the oldest call out when nil: its
    /// latency, or its error.
    func answered(callID: UInt64?, failure: String?, _ outcome: inout Load.Outcome) {
        guard let sent = takeSent(callID ?? nextCallID - UInt64(outstanding)) else {
            outcome.record(sent: nil, failure: failure ?? "an answer to no call out")
            return
        }
        outcome.record(sent: sent, failure: failure)
    }

    func failAll(_ failure: String, _ outcome: inout Load.Outcome) {
        for slot in sentCallIDs.indices where sentCallIDs[slot] != 0 {
            outcome.record(sent: NIODeadline.uptimeNanoseconds(sentNanos[slot]), failure: failure)
            sentCallIDs[slot] = 0
        }
        outstanding = 0
    }

    /// When the call `callID` was sent, if it is out (it is no longer).
    private func takeSent(_ callID: UInt64) -> NIODeadline? {
        let slot = Int(callID % UInt64(Self.ringSize))
        guard callID != 0, sentCallIDs[slot] == callID else { return nil }
        sentCallIDs[slot] = 0
        outstanding -= 1
        return NIODeadline.uptimeNanoseconds(sentNanos[slot])
    }
}
