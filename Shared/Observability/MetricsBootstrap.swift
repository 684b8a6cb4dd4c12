public import Prometheus
import CoreMetrics

/// The process's Prometheus registry behind swift-metrics. Every `Counter`,
/// `Gauge`, `Meter` and `Timer` created after `bootstrap()` (by this code or a
/// library) lands in it; ones created before stay no-ops, so call it first.
public enum MetricsBootstrap {
    /// Latency buckets for every Timer: the hot path answers in tens of
    /// microseconds, database work in milliseconds, slow calls in seconds.
    public static let latencyBuckets: [Duration] = [
        .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    private static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = latencyBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Installs the Prometheus factory (once per process; later calls return
    /// the same registry) and returns the registry to serve.
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        registry
    }
}
