/// An enum generated from a proto3 enum. Proto3 enums are open: a value the
/// schema does not name decodes to the `unrecognized(Int32)` case and encodes
/// back unchanged.
public protocol ProtoEnum: RawRepresentable, CaseIterable, Hashable, Sendable
where RawValue == Int32, AllCases == [Self] {
    /// The fully qualified proto name, e.g. `phonenumbers.rpc.v1.Code`.
    static var protoName: String { get }

    /// The case of a wire value; never fails.
    init(rawValue: Int32)
}
