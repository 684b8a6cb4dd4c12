import Metrics

/// Gauges of one connection pool's usage, labelled by the role it connects
/// as: its size, connections lent out (or being opened), idle ones, and
/// callers waiting for one. Waiters above zero mean the pool is too small
/// for the load (or the database too slow).
struct PoolMetrics: Sendable {
    private let size: Gauge
    private let inUse: Gauge
    private let idle: Gauge
    private let waiters: Gauge

    init(role: String, size maxConnections: Int) {
        let dimensions = [("role", role)]
        size = Gauge(label: "db_pool_size", dimensions: dimensions)
        inUse = Gauge(label: "db_pool_connections_in_use", dimensions: dimensions)
        idle = Gauge(label: "db_pool_connections_idle", dimensions: dimensions)
        waiters = Gauge(label: "db_pool_waiters", dimensions: dimensions)
        size.record(maxConnections)
    }

    func update(inUse inUseCount: Int, idle idleCount: Int, waiters waiterCount: Int) {
        inUse.record(inUseCount)
        idle.record(idleCount)
        waiters.record(waiterCount)
    }
}
