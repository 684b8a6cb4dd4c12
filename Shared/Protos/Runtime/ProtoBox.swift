/// Heap storage for a message field whose type contains the message itself
/// (a struct cannot contain itself). Immutable: setting the field replaces
/// the box, so value semantics hold.
final class ProtoBox<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }

    static func == (lhs: ProtoBox, rhs: ProtoBox) -> Bool {
        lhs === rhs || lhs.value == rhs.value
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(value)
    }
}
