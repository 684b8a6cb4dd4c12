import ArgumentParser
import Credentials
import Foundation
import Protos

/// The size of the seeded set, shared by every subcommand that needs it.
struct SeedOptions: ParsableArguments {
    @Option(help: "Numbers in the seeded set.") var numbers = 1_000_000
    @Option(help: "Organisations the numbers are spread over.") var organizations = 2_000
    @Option(help: "Agents in all (the same number per organisation).") var agents = 20_000

    func validate() throws {
        guard (1...SeedSet.capacity).contains(numbers) else { throw ValidationError("numbers must be 1...\(SeedSet.capacity)") }
        guard organizations > 0, agents >= organizations, agents % organizations == 0 else {
            throw ValidationError("agents must be a positive multiple of organizations")
        }
    }

    var set: SeedSet { SeedSet(numbers: numbers, organizations: organizations, agentsPerOrganization: agents / organizations) }
}

/// Writes COPY ... FROM STDIN blocks of the seeded set for psql: the
/// projection exactly as lookup would have built it from events, straight
/// into its tables. Credentials are sealed as inventory seals them, with the
/// services' key ring (`PHONE_CREDENTIAL_KEYS`), so lookup can open them.
struct SeedSQL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-sql", abstract: "Print COPY blocks (CSV) filling lookup's tables with the seeded set.")
    @OptionGroup var seed: SeedOptions

    func run() throws {
        let set = seed.set
        guard let keys = ProcessInfo.processInfo.environment["PHONE_CREDENTIAL_KEYS"] else {
            throw ValidationError("set PHONE_CREDENTIAL_KEYS to the services' credential keys")
        }
        let keyRing = try CredentialKeyRing(configuration: keys)
        var out = OutputBuffer()
        out.copy("lookup.organizations (id, slug, external_id, name, time_zone)")
        for index in 0..<set.organizations {
            let organization = set.organization(index)
            out.row([organization.id, organization.slug, organization.externalId, organization.name, organization.timeZone])
        }
        out.endCopy()
        out.copy("lookup.agents (id, organization_id, name, external_assistant_id)")
        for index in 0..<(set.organizations * set.agentsPerOrganization) {
            let agent = set.agent(index)
            out.row([agent.id, agent.organizationId, agent.name, agent.externalAssistantId])
        }
        out.endCopy()
        out.copy("""
            lookup.numbers (number_id, e164, cataloged, country, region, number_type, provider, provider_number_id, \
            trunk_id, vapi_phone_number_id, capabilities, retired, owner_organization_id, inventory_version, \
            credentials_key_id, credentials_ciphertext, organization_id, agent_id, assignment_state)
            """)
        var schedules: [(String, AssignmentV1.Schedule)] = []
        for index in 0..<set.numbers {
            let number = set.number(index)
            let organization = set.organizationID(number.organization)
            let sealed = try number.credentials.map {
                try keyRing.encrypt($0, associatedData: CredentialKeyRing.associatedData(numberID: number.id))
            }
            // nil is NULL; "" an empty string.
            out.row([number.id, number.e164, "t", "US", "CA", "fixed_line_or_mobile", number.provider, number.providerNumberID,
                     number.trunkID, number.vapiPhoneNumberID, "3", "f", number.owned ? organization : nil, "1",
                     sealed?.keyID, sealed.map { "\\x" + SeedSet.hexString($0.ciphertext) },
                     organization, set.agentID(number.agent), "assigned"])
            if let schedule = number.schedule { schedules.append((number.id, schedule)) }
        }
        out.endCopy()
        out.copy("lookup.schedules (number_id, schedule)")
        for (id, schedule) in schedules {
            out.row([id, "\\x" + SeedSet.hexString(schedule.serializedBytes())])
        }
        out.endCopy()
        out.flush()
    }
}

/// Writes the Redis protocol (for `redis-cli --pipe`) setting one key per
/// seeded number to the route lookup answers for it, encoded, under
/// `SeedSet.redisKey`.
struct RedisProtocol: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-protocol", abstract: "Print SET commands (RESP) of every seeded number's encoded route.")
    @OptionGroup var seed: SeedOptions

    func run() throws {
        let set = seed.set
        var out = OutputBuffer()
        var valueBytes = 0
        for index in 0..<set.numbers {
            let key = SeedSet.redisKey(index)
            let value = set.resolveResponse(index).serializedBytes()
            valueBytes += value.count
            out.append("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(value.count)\r\n")
            out.append(value)
            out.append("\r\n")
        }
        out.flush()
        FileHandle.standardError.write(Data("redis-protocol: \(set.numbers) keys, values \(valueBytes / set.numbers) bytes on average\n".utf8))
    }
}

/// Buffered standard output, flushed in large writes.
struct OutputBuffer {
    private var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 20) }

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if bytes.count >= 1 << 20 { flush() }
    }

    mutating func append(_ data: [UInt8]) {
        bytes.append(contentsOf: data)
        if bytes.count >= 1 << 20 { flush() }
    }

    mutating func flush() {
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { fatalError("cannot write to standard output: errno \(errno)") }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }

    /// Starts a `COPY table (columns) FROM STDIN` block of CSV rows.
    mutating func copy(_ tableAndColumns: String) {
        append("COPY \(tableAndColumns) FROM STDIN WITH (FORMAT csv);\n")
    }

    mutating func endCopy() { append("\\.\n") }

    /// One CSV row; nil is NULL (unquoted empty), "" an empty string (quoted).
    /// The seeded values hold no comma, quote or line break.
    mutating func row(_ fields: [String?]) {
        append(fields.map { $0.map { $0.isEmpty ? "\"\"" : $0 } ?? "" }.joined(separator: ",") + "\n")
    }
}

/// Writes a pgbench script selecting the row of a random seeded number from
/// lookup's `numbers` by its E.164 (the unique index), as Resolve reads it.
struct PgbenchScript: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgbench-script", abstract: "Print a pgbench script reading one random seeded number's row.")
    @OptionGroup var seed: SeedOptions

    func run() throws {
        let areas = SeedSet.areaCodes.map { "'\($0)'" }.joined(separator: ",")
        // The E.164 of index i as SeedSet.e164 writes it: "+1", area code, "0", six digits.
        print("""
            \\set i random(0, \(seed.numbers - 1))
            \\set area :i / 1000000 + 1
            \\set line :i % 1000000
            SELECT number_id, e164, country, region, number_type, provider, provider_number_id, trunk_id,
                   vapi_phone_number_id, capabilities, retired, owner_organization_id, credentials_key_id,
                   credentials_ciphertext, organization_id, agent_id, assignment_state
              FROM lookup.numbers
             WHERE e164 = '+1' || (ARRAY[\(areas)])[:area] || '0' || lpad(:line::text, 6, '0');
            """)
    }
}
