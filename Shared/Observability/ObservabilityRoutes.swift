import Prometheus
import RPC

/// What the observability endpoint answers, independent of HTTP plumbing.
struct ObservabilityRoutes: Sendable {
    struct Answer: Sendable {
        var status: UInt
        var contentType: String
        var body: [UInt8]
    }

    let registry: PrometheusCollectorRegistry
    let serviceName: String
    let version: String
    let healthCheck: @Sendable () async -> HealthReport

    func metrics() -> Answer {
        var body: [UInt8] = []
        registry.emit(into: &body)
        return Answer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body)
    }

    /// 200 when serving, 503 otherwise, with the report as JSON.
    func health() async -> Answer {
        let report = await healthCheck()
        var json = "{\"status\":"
        json.appendJSONString(report.serving ? "serving" : "not_serving")
        json += ",\"service\":"
        json.appendJSONString(serviceName)
        json += ",\"version\":"
        json.appendJSONString(version)
        json += ",\"database_reachable\":\(report.databaseReachable)}\n"
        return Answer(status: report.serving ? 200 : 503, contentType: "application/json", body: Array(json.utf8))
    }

    static func notFound() -> Answer {
        Answer(status: 404, contentType: "text/plain; charset=utf-8", body: Array("not found: try /metrics or /health\n".utf8))
    }

    static func methodNotAllowed() -> Answer {
        Answer(status: 405, contentType: "text/plain; charset=utf-8", body: Array("only GET is allowed\n".utf8))
    }

    static func bodyTooLarge() -> Answer {
        Answer(status: 413, contentType: "text/plain; charset=utf-8", body: Array("request body too large\n".utf8))
    }
}
