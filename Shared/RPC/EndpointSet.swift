import NIOConcurrencyHelpers
import NIOCore

/// The server addresses behind one target and a connection to each, handed
/// out round-robin. Addresses that fail to connect back off exponentially and
/// calls fail fast with UNAVAILABLE while every address is backing off; the
/// host name is resolved again periodically and whenever nothing is reachable.
final class EndpointSet: Sendable {
    private struct Endpoint {
        var address: SocketAddress
        var connection: ClientConnection?
        var connecting: Task<ClientConnection, any Error>?
        var failures = 0
        var retryAt = NIODeadline.uptimeNanoseconds(0)
        var lastError: String?

        func isIdle(at now: NIODeadline) -> Bool {
            (connection == nil || connection?.isActive == false) && connecting == nil && retryAt <= now
        }
    }

    private struct State {
        var endpoints: [Endpoint] = []
        var resolvedAt: NIODeadline?
        var cursor = 0
        var isClosed = false
    }

    private enum Step {
        case use(ClientConnection)
        case await(Task<ClientConnection, any Error>)
        case resolve
        case fail(RPCError)
    }

    private let targets: [RPCTarget]
    private let configuration: RPCClient.Configuration
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    init(targets: [RPCTarget], configuration: RPCClient.Configuration, group: any EventLoopGroup) {
        self.targets = targets
        self.configuration = configuration
        self.group = group
    }

    /// A live connection, connecting (or waiting out backoff) as needed until `deadline`.
    func connection(deadline: NIODeadline) async throws(RPCError) -> ClientConnection {
        while true {
            switch nextStep(now: .now()) {
            case .use(let connection):
                return connection
            case .await(let task):
                _ = try? await task.value
            case .resolve:
                if let error = await resolve() { throw error }
            case .fail(let error):
                throw error
            }
            if NIODeadline.now() >= deadline {
                throw RPCError(.deadlineExceeded, "deadline passed while connecting to \(targetNames)")
            }
        }
    }

    private var targetNames: String { targets.map(\.description).joined(separator: ", ") }

    /// When the first address that is backing off may be tried again (nil
    /// when none is): a retry of a call that found no server waits for it, so
    /// its attempts are not all spent before any reconnect is due.
    func nextReconnect() -> NIODeadline? {
        state.withLockedValue { state in
            state.endpoints.lazy.filter { $0.connection?.isActive != true && $0.connecting == nil }.map(\.retryAt).min()
        }
    }

    func closeAll() {
        let connections = state.withLockedValue { state -> [ClientConnection] in
            state.isClosed = true
            defer { state.endpoints.removeAll() }
            return state.endpoints.compactMap(\.connection)
        }
        for connection in connections { connection.close() }
    }

    private func nextStep(now: NIODeadline) -> Step {
        state.withLockedValue { state in
            guard !state.isClosed else { return .fail(RPCError(.unavailable, "client is closed")) }
            let stale = state.resolvedAt.map { now - $0 > configuration.reresolveInterval } ?? true
            if state.endpoints.isEmpty || stale { return .resolve }

            // Start connections to idle addresses in the background, so load
            // spreads over every replica soon after start or recovery.
            for index in state.endpoints.indices where state.endpoints[index].isIdle(at: now) {
                state.endpoints[index].connecting = startConnecting(index: index, address: state.endpoints[index].address)
            }
            let count = state.endpoints.count
            for offset in 0..<count {
                let index = (state.cursor + offset) % count
                if let connection = state.endpoints[index].connection, connection.isActive {
                    state.cursor = (index + 1) % count
                    return .use(connection)
                }
            }
            if let task = state.endpoints.lazy.compactMap(\.connecting).first {
                return .await(task)
            }
            // Every address failed its last attempt and is backing off: fail
            // fast (the caller's retry policy decides what next), and resolve
            // again next time in case the addresses moved.
            state.resolvedAt = nil
            let reason = state.endpoints.compactMap(\.lastError).last ?? "not connected"
            return .fail(RPCError(.unavailable, "no reachable server for \(targetNames): \(reason)"))
        }
    }

    private func startConnecting(index: Int, address: SocketAddress) -> Task<ClientConnection, any Error> {
        Task {
            do {
                let connection = try await ClientConnection.connect(
                    to: address, group: group, maximumFrameSize: configuration.maximumFrameSize,
                    connectTimeout: configuration.connectTimeout)
                connected(address, connection)
                return connection
            } catch {
                failed(address, error)
                throw error
            }
        }
    }

    private func connected(_ address: SocketAddress, _ connection: ClientConnection) {
        let kept = state.withLockedValue { state -> Bool in
            guard !state.isClosed, let index = state.endpoints.firstIndex(where: { $0.address == address }) else { return false }
            state.endpoints[index].connection = connection
            state.endpoints[index].connecting = nil
            state.endpoints[index].failures = 0
            return true
        }
        guard kept else { return connection.close() }
        connection.channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue { state in
                if let index = state.endpoints.firstIndex(where: { $0.connection === connection }) {
                    state.endpoints[index].connection = nil
                }
            }
        }
    }

    private func failed(_ address: SocketAddress, _ error: any Error) {
        state.withLockedValue { state in
            guard let index = state.endpoints.firstIndex(where: { $0.address == address }) else { return }
            state.endpoints[index].connecting = nil
            state.endpoints[index].failures += 1
            let failures = state.endpoints[index].failures
            let backoff = min(configuration.initialBackoff.nanoseconds << min(failures - 1, 16),
                              configuration.maximumBackoff.nanoseconds)
            let jittered = Int64.random(in: backoff / 2...max(backoff / 2, backoff))
            state.endpoints[index].retryAt = .now() + .nanoseconds(jittered)
            state.endpoints[index].lastError = "\(address): \(error)"
        }
    }

    /// Refreshes the address list; an error only when nothing is known to connect to.
    private func resolve() async -> RPCError? {
        var addresses: [SocketAddress] = []
        do {
            for target in targets {
                for address in try await EndpointResolver.resolve(target) where !addresses.contains(address) {
                    addresses.append(address)
                }
            }
        } catch {
            // Keep the addresses we had: a DNS hiccup should not drop live connections.
            let isEmpty = state.withLockedValue { state in
                state.resolvedAt = .now()
                return state.endpoints.isEmpty
            }
            return isEmpty ? error.asRPCError : nil
        }
        guard !addresses.isEmpty else { return RPCError(.unavailable, "\(targetNames) resolved to no address") }
        let dropped = state.withLockedValue { state -> [ClientConnection] in
            state.resolvedAt = .now()
            var kept: [Endpoint] = []
            var dropped: [ClientConnection] = []
            for endpoint in state.endpoints {
                if addresses.contains(endpoint.address) { kept.append(endpoint) } else if let c = endpoint.connection { dropped.append(c) }
            }
            for address in addresses where !kept.contains(where: { $0.address == address }) {
                kept.append(Endpoint(address: address))
            }
            state.endpoints = kept
            return dropped
        }
        for connection in dropped { connection.close() }
        return nil
    }
}

