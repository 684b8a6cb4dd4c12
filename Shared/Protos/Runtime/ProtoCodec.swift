internal import CProtobufC

/// Drives protobuf-c for the generated messages: the decode (wire scan,
/// budgeted unpack, conversion, free) and the encode (conversion into an
/// arena, size, pack).
enum ProtoCodec {
    /// Decodes `bytes` as an `M`, allowing protobuf-c at most
    /// `allocationLimit` bytes (by default proportional to the input).
    static func decode<M: CMessageBridge>(
        _ bytes: UnsafeRawBufferPointer, allocationLimit: Int? = nil
    ) throws(ProtoDecodingError) -> M {
        do {
            try ProtoWireScanner.scan(bytes, schema: M._wireSchema)
        } catch {
            throw ProtoDecodingError(messageName: M.protoName, reason: error.reason)
        }
        let limit = allocationLimit
            ?? ProtoDecoding.allocationLimit(inputLength: bytes.count, largestCStruct: M._largestCStruct)
        // The budget lives on the stack: the allocator reaches it through
        // `allocator_data`, for the duration of the unpack and the free.
        let result = withUnsafeTemporaryAllocation(of: AllocationBudget.self, capacity: 1) { buffer in
            let budget = buffer.baseAddress!
            budget.initialize(to: AllocationBudget(remaining: limit))
            var allocator = ProtobufCAllocator(
                alloc: budgetedAlloc, free: budgetedFree, allocator_data: UnsafeMutableRawPointer(budget))
            // protobuf-c reads nothing when the length is 0, but wants a pointer.
            let empty: UInt8 = 0
            let message = withUnsafePointer(to: empty) { emptyPointer in
                M._cUnpack(&allocator, bytes.count,
                           bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? emptyPointer)
            }
            guard let message else {
                return Result<M, ProtoDecodingError>.failure(ProtoDecodingError(
                    messageName: M.protoName,
                    reason: budget.pointee.exceeded ? .allocationLimitExceeded(limit: limit) : .rejectedByProtobufC))
            }
            defer { M._cFreeUnpacked(message, &allocator) }
            return .success(M(_c: message))
        }
        return try result.get()
    }

    /// Converts `message` for protobuf-c and lends `body` the result.
    static func withSerialization<M: CMessageBridge, Output, Failure: Error>(
        of message: M, _ body: (borrowing ProtoSerialization) throws(Failure) -> Output
    ) throws(Failure) -> Output {
        let arena = ProtoArena()
        // The arena frees every allocation once protobuf-c is done.
        defer { arena.releaseAll() }
        let c = arena.message(message)
        let serialization = ProtoSerialization(
            size: M._cPackedSize(c), message: UnsafeRawPointer(c), packer: M.self)
        return try body(serialization)
    }
}

/// The state of a budgeted `ProtobufCAllocator`.
struct AllocationBudget {
    /// Bytes that may still be allocated (frees give bytes back).
    var remaining: Int
    /// Whether an allocation was refused, so that protobuf-c's failure can
    /// be told apart from bad input.
    var exceeded = false
}

/// Each allocation is preceded by a header holding its total size, so that
/// `budgetedFree` (which protobuf-c calls without a size) can give it back.
private let headerSize = 16

private func budgetedAlloc(_ data: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    let budget = data!.assumingMemoryBound(to: AllocationBudget.self)
    let (total, overflow) = size.addingReportingOverflow(headerSize)
    guard !overflow, total <= budget.pointee.remaining else {
        budget.pointee.exceeded = true
        return nil
    }
    budget.pointee.remaining -= total
    let raw = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: headerSize)
    raw.storeBytes(of: total, as: Int.self)
    return raw + headerSize
}

private func budgetedFree(_ data: UnsafeMutableRawPointer?, _ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    let budget = data!.assumingMemoryBound(to: AllocationBudget.self)
    let raw = pointer - headerSize
    budget.pointee.remaining += raw.load(as: Int.self)
    raw.deallocate()
}
