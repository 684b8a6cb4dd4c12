public import PhoneNumbers
public import Protos

/// Number types between libphonenumber's snake_case names (what services store
/// and show) and inventory's wire enum.
public enum NumberTypes {
    private static let pairs: [(PhoneNumber.Kind, InventoryV1.NumberType)] = [
        (.fixedLine, .fixedLine), (.mobile, .mobile), (.fixedLineOrMobile, .fixedLineOrMobile),
        (.tollFree, .tollFree), (.premiumRate, .premiumRate), (.sharedCost, .sharedCost),
        (.voip, .voip), (.personalNumber, .personalNumber), (.pager, .pager), (.uan, .uan),
        (.voicemail, .voicemail), (.unknown, .unknown),
    ]

    public static func wire(_ stored: String) -> InventoryV1.NumberType {
        pairs.first { $0.0.rawValue == stored }?.1 ?? .unknown
    }

    /// The stored name for a wire value; nil for unspecified.
    public static func stored(_ wire: InventoryV1.NumberType) -> String? {
        pairs.first { $0.1 == wire }?.0.rawValue
    }

    /// The stored name for a wire value, "unknown" for unspecified or unrecognised.
    public static func name(_ wire: InventoryV1.NumberType) -> String {
        stored(wire) ?? PhoneNumber.Kind.unknown.rawValue
    }
}
