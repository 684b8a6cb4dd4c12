internal import CLibPQ
import Dispatch
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Synchronization

extension Connection {
    /// Streams the rows of `COPY (query) TO STDOUT (FORMAT binary)` into
    /// `consume`, in batches of `batchSize`. Unlike a cursor, which waits for
    /// each FETCH, the server produces rows while a database thread decodes
    /// them (`transform`, on that thread) and the caller consumes earlier
    /// batches: the three overlap. At most `depth` decoded batches wait for the
    /// consumer, so memory stays bounded whichever side is faster.
    public func copyOut<Row: Sendable>(
        _ query: String, batchSize: Int = 10_000, depth: Int = 4,
        transform: @escaping @Sendable (CopyRow) throws -> Row,
        consume: ([Row]) throws -> Void
    ) async throws {
        let sql = "COPY (\(query)) TO STDOUT (FORMAT binary)"
        let (batches, continuation) = AsyncThrowingStream<[Row], any Error>.makeStream()
        // Created empty and then filled: libdispatch traps when a semaphore is
        // freed holding less than its initial value, which one would here.
        let room = DispatchSemaphore(value: 0)
        for _ in 0..<depth { room.signal() }
        let abandoned = Atomic(false)
        let producer = Task {
            do {
                try await onThreadPool(threadPool) { () throws(DatabaseError) in
                    try self.withLiveHandle(sql: sql) { pointer throws(DatabaseError) in
                        try self.produce(sql, pointer: pointer, batchSize: batchSize, transform: transform) { batch in
                            guard !abandoned.load(ordering: .relaxed) else { return }
                            room.wait()
                            continuation.yield(batch)
                        }
                        continuation.finish()
                    }
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        var failure: (any Error)?
        do {
            for try await batch in batches {
                try consume(batch)
                room.signal()
            }
        } catch {
            failure = error
        }
        // However the loop ended (done, failed, or cancelled, which ends it
        // early), the producer reads to the end of the COPY, discarding, so the
        // session stays usable; it must not wait for room that never comes.
        abandoned.store(true, ordering: .relaxed)
        for _ in 0..<depth { room.signal() }
        _ = await producer.result
        if let failure { throw failure }
        try Task.checkCancellation()
    }

    /// Reads every CopyData message of the COPY started by `sql`, hands
    /// batches of transformed rows to `deliver`, then checks the final status.
    private func produce<Row>(
        _ sql: String, pointer: OpaquePointer, batchSize: Int,
        transform: (CopyRow) throws -> Row, deliver: ([Row]) -> Void
    ) throws(DatabaseError) {
        guard let started = PQexec(pointer, sql) else { throw Connection.lost(nil, pointer: pointer, sql: sql, notSent: false) }
        let status = PQresultStatus(started)
        guard status == PGRES_COPY_OUT else {
            defer { PQclear(started) }
            _ = try succeeded(started, pointer: pointer, sql: sql)
            var error = DatabaseError(code: .queryFailed, message: "COPY did not start (status \(status.rawValue))")
            error.query = sql
            throw error
        }
        PQclear(started)
        var batch: [Row] = []
        batch.reserveCapacity(batchSize)
        var failure: DatabaseError?
        var parser = CopyRow.Parser()
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(pointer, &buffer, 0)
            if length == -1 { break }  // the COPY is complete
            guard length >= 0, let buffer else {
                throw Connection.lost(nil, pointer: pointer, sql: sql, notSent: false)
            }
            defer { PQfreemem(buffer) }
            // After a failure the rest is still read, so the session stays in step.
            guard failure == nil else { continue }
            let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
            do {
                guard let row = try parser.row(in: bytes) else { continue }  // the trailer
                batch.append(try transform(row))
            } catch let error as DatabaseError {
                failure = error
            } catch {
                failure = DatabaseError(code: .decodingFailed, message: "a row could not be read: \(error)")
            }
            if batch.count == batchSize {
                deliver(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        let finished = PQgetResult(pointer)
        defer {
            PQclear(finished)
            while let extra = PQgetResult(pointer) { PQclear(extra) }
        }
        _ = try succeeded(finished, pointer: pointer, sql: sql)
        if let failure { throw failure }
        if !batch.isEmpty { deliver(batch) }
    }
}

/// One row of a binary COPY, valid only inside the `transform` it is handed to.
public struct CopyRow {
    private let fields: [UnsafeRawBufferPointer?]

    private func field(_ column: Int) -> UnsafeRawBufferPointer? { column < fields.count ? fields[column] : nil }

    /// The column's bytes (Postgres's binary send format; text is UTF-8); nil for NULL.
    public func bytes(_ column: Int) -> UnsafeBufferPointer<UInt8>? { field(column).map { $0.bindMemory(to: UInt8.self) } }

    public func string(_ column: Int) -> String? { bytes(column).map { String(decoding: $0, as: UTF8.self) } }
    public func bool(_ column: Int) -> Bool? { bytes(column).map { $0.first == 1 } }
    public func int64(_ column: Int) -> Int64? { field(column).flatMap(BinaryValue.integer) }
    public func uuid(_ column: Int) -> UUID? { field(column).flatMap(BinaryValue.uuid) }
    public func bytea(_ column: Int) -> [UInt8]? { bytes(column).map(Array.init) }

    /// Splits CopyData messages into fields: the first carries the file header.
    struct Parser {
        private static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xff, 0x0d, 0x0a, 0x00]
        private var headerRead = false

        /// The row in `message`; nil for the trailer.
        mutating func row(in message: UnsafeRawBufferPointer) throws(DatabaseError) -> CopyRow? {
            var offset = 0
            if !headerRead {
                guard message.count >= 19, message.prefix(11).elementsEqual(Self.signature) else { throw Self.malformed }
                offset = 19 + Int(try Self.int32(message, at: 15))
                headerRead = true
            }
            let count = Int(Int16(bitPattern: UInt16(try Self.byte(message, offset)) << 8 | UInt16(try Self.byte(message, offset + 1))))
            offset += 2
            if count == -1 { return nil }
            var fields: [UnsafeRawBufferPointer?] = []
            fields.reserveCapacity(count)
            for _ in 0..<count {
                let length = Int(try Self.int32(message, at: offset))
                offset += 4
                if length < 0 {
                    fields.append(nil)
                    continue
                }
                guard offset + length <= message.count else { throw Self.malformed }
                fields.append(UnsafeRawBufferPointer(rebasing: message[offset..<(offset + length)]))
                offset += length
            }
            return CopyRow(fields: fields)
        }

        private static var malformed: DatabaseError {
            DatabaseError(code: .decodingFailed, message: "a binary COPY message is malformed")
        }

        private static func byte(_ message: UnsafeRawBufferPointer, _ offset: Int) throws(DatabaseError) -> UInt8 {
            guard offset < message.count else { throw malformed }
            return message[offset]
        }

        private static func int32(_ message: UnsafeRawBufferPointer, at offset: Int) throws(DatabaseError) -> Int32 {
            guard offset + 4 <= message.count else { throw malformed }
            return Int32(bigEndian: message.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        }
    }
}

/// Values in Postgres's binary send format.
enum BinaryValue {
    /// smallint, integer or bigint: big-endian two's complement.
    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard [2, 4, 8].contains(bytes.count) else { return nil }
        return bytes.dropFirst().reduce(Int64(Int8(bitPattern: bytes[0]))) { $0 << 8 | Int64($1) }
    }

    static func uuid(_ bytes: UnsafeRawBufferPointer) -> UUID? {
        guard bytes.count == 16 else { return nil }
        return UUID(uuid: bytes.loadUnaligned(as: uuid_t.self))
    }
}
