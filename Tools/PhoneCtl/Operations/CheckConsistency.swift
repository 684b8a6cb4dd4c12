import ArgumentParser
import ConsistencyCheck
import Foundation
import Logging
import NIOCore
import RPC
import Store

/// `phonectl check-consistency`: lookup's projection against its sources.
struct CheckConsistency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-consistency",
        abstract: "Compare lookup's projection (its schema and each replica's memory) with what inventory and assignment hold.",
        discussion: """
            Reads all three schemas, so it needs an operator's database login: PG_HOST, PG_PORT, PG_DATABASE, \
            PG_USER (default postgres) and PG_PASSWORD. Waits until lookup has applied the producers' current \
            events, then compares every number, organisation, agent and schedule, and asks each lookup replica \
            (--replica, repeatable; default the --lookup address) to resolve every number. Prints each \
            difference; exits 0 when there is none, 1 otherwise. Run it on a quiet system: writes made while \
            it runs can show up as differences.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("replica"), help: "A lookup replica to question, host:port (repeatable).")
    var replicas: [String] = []
    @Option(help: "Seconds lookup may take to catch up before its lag counts as a difference.")
    var catchUp: Double = 30

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = PostgresConfiguration(
            host: environment["PG_HOST"] ?? "127.0.0.1", port: Int(environment["PG_PORT"] ?? "") ?? 5432,
            database: environment["PG_DATABASE"] ?? "phonenumbers", user: environment["PG_USER"] ?? "postgres",
            password: environment["PG_PASSWORD"])
        configuration.applicationName = "phonectl-check-consistency"
        configuration.pool.maxConnections = 2
        let database = Database(configuration: configuration, logger: Logger(label: "phonectl"))
        let addresses = replicas.isEmpty ? [connection.lookup] : replicas
        let clients = try addresses.map { address in
            guard let target = RPCTarget(address) else { throw ValidationError("--replica: '\(address)' is not host:port") }
            return (name: address, client: connection.client(for: target))
        }
        defer { for replica in clients { replica.client.close() } }
        var check = ConsistencyCheck(database: database, replicas: clients)
        check.catchUp = .milliseconds(Int64(catchUp * 1000))
        let report: ConsistencyCheck.Report
        do {
            report = try await check.run()
            await database.close()
        } catch {
            await database.close()
            Console.error("phonectl: check-consistency: \(error)")
            throw ExitCode(1)
        }
        print("checked \(report.numbers) numbers, \(report.organizations) organisations, \(report.agents) agents, "
            + "\(report.schedules) schedules, \(report.replicas) lookup replica(s)")
        for difference in report.differences.prefix(200) { print("DIFFERENCE  \(difference)") }
        if report.differences.count > 200 { print("… and \(report.differences.count - 200) more") }
        print(report.isConsistent ? "consistent" : "NOT consistent: \(report.differences.count) difference(s)")
        if !report.isConsistent { throw ExitCode(1) }
    }
}
