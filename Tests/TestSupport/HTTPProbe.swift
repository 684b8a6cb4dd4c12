import Foundation

/// One HTTP exchange over a raw socket, as a scraper or a probe would make it.
public struct HTTPResponse {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: String

    /// Sends `request` as is and reads until the server closes the connection.
    public static func exchange(port: Int, _ request: String) async throws -> HTTPResponse? {
        let peer = try RawPeer(port: port)
        peer.send(Array(request.utf8))
        return parse(await peer.readUntilClosed())
    }

    public static func get(port: Int, _ path: String, method: String = "GET") async throws -> HTTPResponse {
        let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        guard let response = try await exchange(port: port, request) else {
            throw ServiceProcessError("no HTTP response to \(method) \(path)")
        }
        return response
    }

    /// nil when the bytes are not an HTTP/1.1 response.
    public static func parse(_ bytes: [UInt8]) -> HTTPResponse? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// The samples of a Prometheus text exposition, looked up by name and labels.
public struct PrometheusText {
    public struct Sample {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public var samples: [Sample] = []
    /// `# TYPE` lines: metric family name → type.
    public var types: [String: String] = [:]

    public init(_ text: String) {
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                  let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples.append(Sample(name: String(series), labels: [:], value: value))
                continue
            }
            var labels: [String: String] = [:]
            // Label values here never contain `",` so a plain split is enough.
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].components(separatedBy: "\",") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                labels[String(pair[..<equals])] = pair[pair.index(equals, offsetBy: 2)...].replacingOccurrences(of: "\"", with: "")
            }
            samples.append(Sample(name: String(series[..<brace]), labels: labels, value: value))
        }
    }

    /// The value of the one sample named `name` whose labels include `labels`.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matches = self.matching(name, labels)
        return matches.count == 1 ? matches[0].value : nil
    }

    public func matching(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
    }
}
