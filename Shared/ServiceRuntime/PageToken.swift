import Foundation
public import RPC

/// Opaque page tokens: the last sort key of the previous page, versioned, so
/// pages stay stable while rows are added.
public enum PageToken {
    public static func encode(_ lastKey: String) -> String {
        Data(("v1:" + lastKey).utf8).base64EncodedString()
    }

    public static func decode(_ token: String) throws(RPCError) -> String {
        guard !token.isEmpty else { return "" }
        guard token.utf8.count <= 256, let data = Data(base64Encoded: token),
              let text = String(data: data, encoding: .utf8), text.hasPrefix("v1:") else {
            throw RPCError.invalidArgument(field: "page_token", "is not a token this service issued")
        }
        return String(text.dropFirst(3))
    }

    public static func pageSize(_ requested: UInt32) throws(RPCError) -> Int {
        guard requested <= 1_000 else { throw RPCError.invalidArgument(field: "page_size", "must be at most 1000") }
        return requested == 0 ? 100 : Int(requested)
    }
}
