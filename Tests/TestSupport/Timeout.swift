/// Runs `body`, failing with a test error if it takes longer than `limit`, so a
/// regression shows as a failure instead of a hung test run.
public func withTimeout<Result: Sendable>(
    _ limit: Duration,
    _ what: String = "operation",
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw TestPostgresError("\(what) did not finish within \(limit)")
        }
        return result
    }
}

/// Lets concurrent tasks wait until all of them reached the same point.
public actor Barrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// A barrier for `parties` tasks.
    public init(parties: Int) { self.parties = parties }

    /// Suspends until `parties` tasks have called this.
    public func arriveAndWait() async {
        arrived += 1
        if arrived >= parties {
            let all = waiting
            waiting.removeAll()
            for continuation in all { continuation.resume() }
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
