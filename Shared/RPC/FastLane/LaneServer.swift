import Atomics
import CPoll
import Foundation
import Glibc
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// Serves a server's connections on raw sockets, one `epoll` thread per core,
/// when its router has fast paths: a call a fast path takes costs one `read`
/// and one `write` shared by every frame they carry, and nothing else — no
/// channel pipeline, buffer allocation or promise per call. A connection's
/// other frames go over a socket pair to a relay channel served by the usual
/// `ServerConnectionHandler`, created when first needed, whose answers join
/// the client's stream whole. So every answer but a fast path's, every error
/// and every limit stays the general path's.
///
/// Threads: each poll thread owns its connections outright (no locks on the
/// hot path); the first also accepts, handing new connections round robin.
final class LaneServer: Sendable {
    struct Settings: Sendable {
        var host: String
        var port: Int
        var threads: Int
        var maximumConnections: Int
        var idleTimeout: TimeAmount
        /// Answers or relayed frames a connection may have waiting before it stops reading.
        var backlogLimit = 4 << 20
    }

    /// Starts the general path for one relayed connection: the socket pair's
    /// far end, the client's address.
    typealias OpenRelay = @Sendable (_ descriptor: CInt, _ peer: String) -> Void

    private let threads: [PollThread]
    private let draining = ManagedAtomic(false)
    private let open = ManagedAtomic(0)
    let address: SocketAddress

    init(settings: Settings, shared: LaneShared, openRelay: @escaping OpenRelay, logger: Logger) throws {
        let address = try SocketAddress.makeAddressResolvingHost(settings.host, port: settings.port)
        let listener = try Self.listen(on: address)
        do {
            self.address = try Self.localAddress(of: listener)
            let gauge = Gauge(label: "rpc_open_connections")
            var threads: [PollThread] = []
            for index in 0..<max(1, settings.threads) {
                threads.append(try PollThread(
                    index: index, settings: settings, shared: shared, listener: index == 0 ? listener : nil,
                    draining: draining, open: open, gauge: gauge, openRelay: openRelay, logger: logger))
            }
            self.threads = threads
        } catch {
            close(listener)
            throw error
        }
        for thread in threads { thread.peers = threads }
    }

    func start() {
        for thread in threads { thread.start() }
    }

    /// Connections open now.
    var openConnections: Int { open.load(ordering: .relaxed) }

    /// Stops accepting; a connection closes once nothing it relayed is still
    /// being answered. Fast paths stop: calls go to the (draining) general path.
    func beginDrain() {
        draining.store(true, ordering: .releasing)
        for thread in threads { thread.wake() }
    }

    /// Closes every connection and ends the threads.
    func stop() {
        for thread in threads { thread.stop() }
    }

    private static func listen(on address: SocketAddress) throws -> CInt {
        let family = address.protocol.rawValue
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: CInt = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        let bound = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard bound == 0, Glibc.listen(fd, 1024) == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "bind/listen on \(address)")
        }
        return fd
    }

    private static func localAddress(of fd: CInt) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw IOError(errnoCode: errno, reason: "getsockname") }
        return try SocketAddress(peer: storage)
    }
}

extension SocketAddress {
    /// The address in `storage` (as filled by accept or getsockname).
    init(peer storage: sockaddr_storage) throws {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = withUnsafeBytes(of: &storage) { SocketAddress($0.load(as: sockaddr_in.self), host: "") }
        case AF_INET6:
            self = withUnsafeBytes(of: &storage) { SocketAddress($0.load(as: sockaddr_in6.self), host: "") }
        default:
            throw IOError(errnoCode: EAFNOSUPPORT, reason: "address family \(storage.ss_family)")
        }
    }
}

/// A poll thread's connections by descriptor: an array, as descriptors are
/// small integers and a dictionary's hashing came to 1% of a call's CPU.
private struct LaneTable {
    private var slots: [Lane?] = []

    subscript(fd: CInt) -> Lane? {
        fd >= 0 && Int(fd) < slots.count ? slots[Int(fd)] : nil
    }

    mutating func insert(_ lane: Lane) {
        let index = Int(lane.fd)
        if index >= slots.count { slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count)) }
        slots[index] = lane
    }

    /// Forgets the connection on `fd`; false when there was none.
    mutating func remove(_ fd: CInt) -> Bool {
        guard self[fd] != nil else { return false }
        slots[Int(fd)] = nil
        return true
    }

    var all: [Lane] { slots.compactMap { $0 } }
}

/// One connection of a poll thread.
private final class Lane {
    let fd: CInt
    let peer: String
    var session: LaneSession
    /// To the client, not yet written.
    var out: ByteBuffer
    /// To the general path, not yet written.
    var relayOut: ByteBuffer
    var relay: CInt = -1
    var lastRead = NIODeadline.now()
    /// Close once `out` is written: the client's stream or the relay has ended.
    var closing = false
    var events: UInt32 = 0
    var relayEvents: UInt32 = 0
    /// What a read ahead of this connection's turn found (see `PollThread.readAhead`).
    var ahead: ReadAhead?

    enum ReadAhead {
        /// Bytes in the poll thread's read-ahead buffer, valid until its next poll;
        /// `more`: the read filled its share, so the socket may hold more.
        case bytes(UnsafeRawBufferPointer, more: Bool)
        case ended
    }

    init(fd: CInt, peer: String, shared: LaneShared) {
        self.fd = fd
        self.peer = peer
        session = LaneSession(shared: shared)
        out = ByteBufferAllocator().buffer(capacity: 4096)
        relayOut = ByteBufferAllocator().buffer(capacity: 0)
    }
}

/// An epoll loop on its own thread. Its connections are its alone; other
/// threads only hand it new ones (`adopt`) and wake it.
private final class PollThread: @unchecked Sendable {
    private let index: Int
    private let settings: LaneServer.Settings
    private let shared: LaneShared
    private let listener: CInt?
    private let draining: ManagedAtomic<Bool>
    private let open: ManagedAtomic<Int>
    private let gauge: Gauge
    private let openRelay: LaneServer.OpenRelay
    private let logger: Logger
    private let epoll: CInt
    private let wakeup: CInt
    private let stopping = ManagedAtomic(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let handedOver = NIOLockedValueBox<[(CInt, String)]>([])
    /// Every thread of the server (set before start): where accepted connections go.
    var peers: [PollThread] = []

    // Owned by the thread.
    private var lanes = LaneTable()
    /// When the current poll returned: the time of every call it brought.
    private var polled = NIODeadline.now()
    private var nextPeer = 0
    private var listening = true
    /// Set while accepting is paused because the process ran out of descriptors
    /// or memory: the listener stays readable, so polling it would spin.
    private var acceptPausedUntil: NIODeadline?
    private var lastSweep = NIODeadline.now()
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    /// Where `readAhead` reads the connections of one poll, side by side.
    private let aheadBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    private var warmer: LaneWarmer

    private static let wakeTag: UInt64 = 1 << 40
    private static let listenTag: UInt64 = 1 << 41
    private static let relayTag: UInt64 = 1 << 32

    init(index: Int, settings: LaneServer.Settings, shared: LaneShared, listener: CInt?,
         draining: ManagedAtomic<Bool>, open: ManagedAtomic<Int>, gauge: Gauge,
         openRelay: @escaping LaneServer.OpenRelay, logger: Logger) throws {
        self.index = index
        self.settings = settings
        self.shared = shared
        self.listener = listener
        self.draining = draining
        self.open = open
        self.gauge = gauge
        self.openRelay = openRelay
        self.logger = logger
        warmer = LaneWarmer(shared: shared)
        epoll = cpoll_create()
        wakeup = cpoll_eventfd()
        guard epoll >= 0, wakeup >= 0 else { throw IOError(errnoCode: errno, reason: "epoll/eventfd") }
        control(CPOLL_ADD, wakeup, events: CPOLL_IN, tag: Self.wakeTag)
        if let listener { control(CPOLL_ADD, listener, events: CPOLL_IN, tag: Self.listenTag) }
    }

    deinit {
        readBuffer.deallocate()
        aheadBuffer.deallocate()
    }

    func start() {
        let thread = Thread { [self] in
            run()
            stopped.signal()
        }
        thread.name = "rpc-lane-\(index)"
        thread.start()
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        wake()
        stopped.wait()
    }

    /// Takes a connection accepted by another thread.
    func adopt(_ fd: CInt, peer: String) {
        handedOver.withLockedValue { $0.append((fd, peer)) }
        wake()
    }

    private func run() {
        var events = [UInt32](repeating: 0, count: Int(CPOLL_MAX_EVENTS))
        var tags = [UInt64](repeating: 0, count: Int(CPOLL_MAX_EVENTS))
        while !stopping.load(ordering: .acquiring) {
            let count = cpoll_wait(epoll, &events, &tags, acceptPausedUntil == nil ? 1000 : 10)
            polled = .now()
            if count > 1, shared.warms, fastPathsOn { readAhead(count, events, tags) }
            for slot in 0..<max(0, Int(count)) {
                let tag = tags[slot]
                if tag == Self.wakeTag {
                    var value: UInt64 = 0
                    _ = read(wakeup, &value, 8)
                    adoptHandedOver()
                } else if tag == Self.listenTag {
                    acceptConnections()
                } else if let lane = lanes[CInt(truncatingIfNeeded: tag)] {
                    if tag & Self.relayTag != 0 {
                        relayReady(lane, events[slot])
                    } else {
                        clientReady(lane, events[slot])
                    }
                }
            }
            housekeeping()
        }
        stopListening()
        for lane in lanes.all { closeLane(lane) }
        close(epoll)
        close(wakeup)
    }

    // MARK: Connections

    private func acceptConnections() {
        guard listening, let listener else { return }
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    cpoll_accept(listener, $0, &length)
                }
            }
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno != EAGAIN, errno != EWOULDBLOCK {
                    logger.warning("accept failed; pausing accepting for 100 ms",
                                   metadata: ["error": "\(String(cString: strerror(errno)))"])
                    control(CPOLL_DEL, listener, events: 0, tag: 0)
                    acceptPausedUntil = .now() + .milliseconds(100)
                }
                return
            }
            guard open.loadThenWrappingIncrement(ordering: .relaxed) < settings.maximumConnections else {
                open.wrappingDecrement(ordering: .relaxed)
                close(fd)
                continue
            }
            gauge.record(open.load(ordering: .relaxed))
            var one: CInt = 1
            setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
            let peer = (try? SocketAddress(peer: storage))?.description ?? "?"
            let target = peers[nextPeer % peers.count]
            nextPeer += 1
            if target === self { adoptConnection(fd, peer: peer) } else { target.adopt(fd, peer: peer) }
        }
    }

    private func adoptHandedOver() {
        let taken = handedOver.withLockedValue { list in
            defer { list.removeAll() }
            return list
        }
        for (fd, peer) in taken { adoptConnection(fd, peer: peer) }
    }

    private func adoptConnection(_ fd: CInt, peer: String) {
        let lane = Lane(fd: fd, peer: peer, shared: shared)
        lanes.insert(lane)
        lane.events = CPOLL_IN
        control(CPOLL_ADD, fd, events: lane.events, tag: UInt64(UInt32(bitPattern: fd)))
    }

    private func closeLane(_ lane: Lane) {
        guard lanes.remove(lane.fd) else { return }
        control(CPOLL_DEL, lane.fd, events: 0, tag: 0)
        close(lane.fd)
        if lane.relay >= 0 {
            // The relay sees end of stream and cancels what it still runs.
            control(CPOLL_DEL, lane.relay, events: 0, tag: 0)
            close(lane.relay)
        }
        gauge.record(open.wrappingDecrementThenLoad(ordering: .relaxed))
    }

    // MARK: Client side

    private func clientReady(_ lane: Lane, _ events: UInt32) {
        if events & CPOLL_IN != 0 || events & (CPOLL_HUP | CPOLL_ERR) != 0 {
            readClient(lane)
        }
        guard lanes[lane.fd] != nil else { return }
        if lane.relayOut.readableBytes > 0 { writeRelay(lane) }
        writeClient(lane)
    }

    /// Fast paths are off while the server drains, and when every call is logged.
    private var fastPathsOn: Bool { !draining.load(ordering: .relaxed) && shared.logger.logLevel > .debug }

    /// Reads, once each, the clients a poll found readable, before any is
    /// served, so that the calls of all of them are warmed together
    /// (`LaneWarmer`): at one call in flight per connection, a read holds
    /// one call, and a poll several connections' calls.
    private func readAhead(_ count: CInt, _ events: [UInt32], _ tags: [UInt64]) {
        var used = 0
        for slot in 0..<Int(count) where events[slot] & CPOLL_IN != 0 {
            let tag = tags[slot]
            guard tag & (Self.wakeTag | Self.listenTag | Self.relayTag) == 0,
                  let lane = lanes[CInt(truncatingIfNeeded: tag)] else { continue }
            let room = min(aheadBuffer.count - used, readBuffer.count)
            guard room >= 4096 else { break }
            let got = read(lane.fd, aheadBuffer.baseAddress! + used, room)
            if got > 0 {
                let bytes = UnsafeRawBufferPointer(rebasing: aheadBuffer[used..<used + got])
                if lane.session.startsAFrame { warmer.add(bytes) }
                lane.ahead = .bytes(bytes, more: got == room)
                used += got
            } else if got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                lane.ahead = .ended
            }
        }
        warmer.warm()
    }

    private func readClient(_ lane: Lane) {
        let fast = fastPathsOn
        func consume(_ chunk: UnsafeRawBufferPointer) {
            lane.lastRead = polled
            lane.session.consume(chunk, fast: fast, at: polled, answers: &lane.out, relay: &lane.relayOut)
        }
        let outcome: ReadOutcome
        switch lane.ahead {
        case .ended:
            outcome = .ended
        case .bytes(let bytes, let more):
            consume(bytes)
            outcome = more ? readAvailable(lane.fd, reads: 3, consume) : .drained
        case nil:
            outcome = readAvailable(lane.fd, reads: 4, consume)
        }
        lane.ahead = nil
        guard outcome == .drained else {
            // End of stream, or a reset: nothing more to answer.
            closeLane(lane)
            return
        }
        if lane.relayOut.readableBytes > 0, lane.relay < 0, !openRelayChannel(lane) {
            closeLane(lane)
        }
    }

    private func writeClient(_ lane: Lane) {
        guard flush(&lane.out, to: lane.fd) else {
            closeLane(lane)
            return
        }
        if lane.closing, lane.out.readableBytes == 0 {
            closeLane(lane)
            return
        }
        updateInterest(lane)
    }

    /// Writes what `buffer` holds until the socket takes no more; false on a
    /// broken connection.
    private func flush(_ buffer: inout ByteBuffer, to fd: CInt) -> Bool {
        while buffer.readableBytes > 0 {
            // MSG_NOSIGNAL: a peer that went away is an error here, not SIGPIPE killing the process.
            let written = buffer.withUnsafeReadableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                buffer.moveReaderIndex(forwardBy: written)
            } else if written < 0, errno == EINTR {
                continue
            } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return true
            } else {
                return false
            }
        }
        buffer.clear()
        return true
    }

    /// Reads from the client unless too much waits to be written; watches
    /// for room to write while something does.
    private func updateInterest(_ lane: Lane) {
        let backlog = max(lane.out.readableBytes, lane.relayOut.readableBytes)
        var events: UInt32 = 0
        if backlog < settings.backlogLimit, !lane.closing { events |= CPOLL_IN }
        if lane.out.readableBytes > 0 { events |= CPOLL_OUT }
        if events != lane.events {
            lane.events = events
            control(CPOLL_MOD, lane.fd, events: events, tag: UInt64(UInt32(bitPattern: lane.fd)))
        }
        if lane.relay >= 0 {
            let relayEvents = CPOLL_IN | (lane.relayOut.readableBytes > 0 ? CPOLL_OUT : 0)
            if relayEvents != lane.relayEvents {
                lane.relayEvents = relayEvents
                control(CPOLL_MOD, lane.relay, events: relayEvents, tag: relayTag(lane))
            }
        }
    }

    // MARK: Relay side

    /// A socket pair to a new general-path channel; false when none can be made.
    private func openRelayChannel(_ lane: Lane) -> Bool {
        // Draining: the general path takes no new connection, and the client retries elsewhere.
        guard !draining.load(ordering: .relaxed) else { return false }
        var pair: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                         0, &pair) == 0 else {
            logger.warning("cannot relay a call to the general path", metadata: ["error": "\(String(cString: strerror(errno)))"])
            return false
        }
        lane.relay = pair[0]
        lane.relayEvents = CPOLL_IN
        control(CPOLL_ADD, pair[0], events: lane.relayEvents, tag: relayTag(lane))
        openRelay(pair[1], lane.peer)
        return true
    }

    private func relayReady(_ lane: Lane, _ events: UInt32) {
        if events & CPOLL_OUT != 0 { writeRelay(lane) }
        guard lanes[lane.fd] != nil, lane.relay >= 0 else { return }
        if events & (CPOLL_IN | CPOLL_HUP | CPOLL_ERR) != 0 { readRelay(lane) }
        guard lanes[lane.fd] != nil else { return }
        writeClient(lane)
    }

    private func readRelay(_ lane: Lane) {
        let outcome = readAvailable(lane.relay, reads: 16) { chunk in
            lane.session.consumeRelayed(chunk, answers: &lane.out)
        }
        if outcome == .ended { relayEnded(lane) }
    }

    private enum ReadOutcome { case drained, ended }

    /// Reads what `fd` holds, at most `reads` times (level-triggered polling
    /// comes back for the rest), handing each chunk to `consume`: `.ended` on
    /// end of stream or an error.
    private func readAvailable(_ fd: CInt, reads: Int, _ consume: (UnsafeRawBufferPointer) -> Void) -> ReadOutcome {
        var done = 0
        while done < reads {
            let count = read(fd, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                consume(UnsafeRawBufferPointer(rebasing: readBuffer[..<count]))
                done += 1
                if count < readBuffer.count { break }
            } else if count < 0, errno == EINTR {
                continue
            } else if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                return .ended
            }
        }
        return .drained
    }

    private func writeRelay(_ lane: Lane) {
        guard lane.relay >= 0 else { return }
        if !flush(&lane.relayOut, to: lane.relay) { relayEnded(lane) }
    }

    /// The general path closed its side: on a protocol error it could not
    /// recover from, or draining. Either way the client's connection ends
    /// once its answers are written.
    private func relayEnded(_ lane: Lane) {
        control(CPOLL_DEL, lane.relay, events: 0, tag: 0)
        close(lane.relay)
        lane.relay = -1
        lane.session.relayClosed()
        lane.relayOut.clear()
        lane.closing = true
    }

    // MARK: Housekeeping

    private func housekeeping() {
        let now = polled
        if let until = acceptPausedUntil, now >= until {
            acceptPausedUntil = nil
            if listening, let listener { control(CPOLL_ADD, listener, events: CPOLL_IN, tag: Self.listenTag) }
        }
        if draining.load(ordering: .relaxed) {
            stopListening()
            // What relays nothing can close now; the others close when their relay does.
            for lane in lanes.all where lane.relay < 0 && !lane.closing {
                lane.closing = true
                writeClient(lane)
            }
        }
        guard now - lastSweep >= .seconds(1) else { return }
        lastSweep = now
        // Frees connections that went quiet, including a peer stalled half-way through a frame.
        for lane in lanes.all
        where now - lane.lastRead >= settings.idleTimeout && lane.session.awaitingAnswers == 0 {
            logger.debug("closing idle connection", metadata: ["rpc.peer": "\(lane.peer)"])
            closeLane(lane)
        }
    }

    /// Closes the listening socket (the first thread's): new connections are refused.
    private func stopListening() {
        guard listening, let listener else { return }
        listening = false
        if acceptPausedUntil == nil { control(CPOLL_DEL, listener, events: 0, tag: 0) }
        close(listener)
    }

    private func relayTag(_ lane: Lane) -> UInt64 {
        UInt64(UInt32(bitPattern: lane.fd)) | Self.relayTag
    }

    private func control(_ operation: Int32, _ fd: CInt, events: UInt32, tag: UInt64) {
        _ = cpoll_control(epoll, operation, fd, events, tag)
    }
}
