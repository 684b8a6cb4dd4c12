internal import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libpq connection keywords built from a configuration. Session settings go in
/// `options` so every connection, including reconnects, starts the same way.
struct ConnectionParameters: Sendable {
    let pairs: [(String, String)]

    init(_ configuration: PostgresConfiguration) throws(DatabaseError) {
        // DateStyle and TimeZone fix the text format timestamptz decoding relies on.
        var options = ["-c DateStyle=ISO,MDY", "-c TimeZone=UTC", "-c extra_float_digits=3"]
        if let timeout = configuration.statementTimeout {
            options.append("-c statement_timeout=\(ConnectionParameters.milliseconds(timeout))")
        }
        if let searchPath = configuration.searchPath {
            // Plain identifiers only: options are split on spaces and we never quote here.
            guard !searchPath.isEmpty, searchPath.allSatisfy(Identifier.isPlain) else {
                throw DatabaseError(code: .unavailable, message: "search path entries must be plain lower-case identifiers")
            }
            options.append("-c search_path=\(searchPath.joined(separator: ","))")
        }
        let connectSeconds = max(2, Int((Double(ConnectionParameters.milliseconds(configuration.connectTimeout)) / 1000).rounded(.up)))
        var pairs: [(String, String)] = [
            ("host", configuration.host),
            ("port", String(configuration.port)),
            ("dbname", configuration.database),
            ("user", configuration.user),
            ("application_name", configuration.applicationName),
            ("client_encoding", "UTF8"),
            ("connect_timeout", String(connectSeconds)),
            ("options", options.joined(separator: " ")),
            // Keepalives notice a peer that vanished without closing the socket.
            ("keepalives", "1"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
        ]
        if let password = configuration.password {
            pairs.append(("password", password))
        }
        self.pairs = pairs
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// NULL-terminated keyword and value arrays for `PQconnectdbParams`.
    func withCArrays<T>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) throws(DatabaseError) -> T
    ) throws(DatabaseError) -> T {
        let keywords = pairs.map { UnsafePointer(strdup($0.0)) } + [nil]
        let values = pairs.map { UnsafePointer(strdup($0.1)) } + [nil]
        defer {
            for pointer in keywords + values { free(UnsafeMutablePointer(mutating: pointer)) }
        }
        return try keywords.withUnsafeBufferPointer { keywords throws(DatabaseError) -> T in
            try values.withUnsafeBufferPointer { values throws(DatabaseError) -> T in
                try body(keywords.baseAddress!, values.baseAddress!)
            }
        }
    }
}

/// Statement parameters for `PQexecParams`: arrays and bytea in binary
/// format, everything else as NUL-terminated text, all in one buffer.
struct EncodedParameters {
    private var types: [Oid] = []
    private var formats: [Int32] = []
    private var lengths: [Int32] = []
    /// Where each value starts in `bytes`; nil for SQL NULL.
    private var offsets: [Int?] = []
    private var bytes: [UInt8] = []

    init(_ parameters: [(any PostgresEncodable)?], sql: String) throws(DatabaseError) {
        for (index, parameter) in parameters.enumerated() {
            guard let parameter else {
                types.append(0)
                formats.append(0)
                lengths.append(0)
                offsets.append(nil)
                continue
            }
            let start = bytes.count
            do {
                if try parameter.appendPostgresBinary(to: &bytes) {
                    guard let length = Int32(exactly: bytes.count - start) else {
                        var error = DatabaseError(code: .queryFailed, message: "parameter $\(index + 1) is larger than 2 GiB", sqlState: "54000")
                        error.query = sql
                        throw error
                    }
                    formats.append(1)
                    lengths.append(length)
                } else {
                    try parameter.postgresText.appendUTF8WithoutNUL(to: &bytes)
                    bytes.append(0)
                    formats.append(0)
                    lengths.append(0)
                }
            } catch {
                // C strings end at NUL and Postgres text cannot hold one; a
                // silently truncated value would be worse than an error.
                var error = DatabaseError(code: .queryFailed, message: "parameter $\(index + 1) contains a NUL character", sqlState: "22021")
                error.query = sql
                throw error
            }
            types.append(Oid(type(of: parameter).postgresTypeOID))
            offsets.append(start)
        }
    }

    /// Count, types, values, lengths and formats, as `PQexecParams` takes them.
    func withCArrays<T>(
        _ body: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T
    ) -> T {
        bytes.withUnsafeBufferPointer { storage in
            let base = UnsafeRawPointer(storage.baseAddress)
            // An empty value still needs a non-NULL pointer: NULL means SQL NULL.
            let empty: StaticString = ""
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                guard let offset else { return nil }
                guard let base else { return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self) }
                return (base + offset).assumingMemoryBound(to: CChar.self)
            }
            return types.withUnsafeBufferPointer { types in
                values.withUnsafeBufferPointer { values in
                    lengths.withUnsafeBufferPointer { lengths in
                        formats.withUnsafeBufferPointer { formats in
                            body(Int32(values.count), types.baseAddress, values.baseAddress, lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            }
        }
    }
}

/// SQL identifiers the store builds statements from (schemas, channels).
enum Identifier {
    /// Lower-case letters, digits and `_`, not starting with a digit, at most 63
    /// bytes: such a name means the same quoted or not.
    static func isPlain(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63,
              first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        else { return false }
        return name.utf8.allSatisfy {
            $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
    }

    /// Double-quoted identifier, with embedded quotes doubled.
    static func quoted(_ name: String) -> String {
        var quoted = "\""
        for character in name {
            quoted.append(character)
            if character == "\"" { quoted.append(character) }
        }
        return quoted + "\""
    }
}
