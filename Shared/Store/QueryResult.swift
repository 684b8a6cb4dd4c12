/// The rows a statement returned, copied out of libpq so they outlive the call.
public struct QueryResult: Sendable, RandomAccessCollection {
    /// Column names in result order.
    public var columns: [String] { layout.names }
    /// Rows inserted, updated or deleted (the count in the command tag); 0 for others.
    public let affectedRows: Int

    let layout: ColumnLayout
    let cells: [[String?]]

    init(layout: ColumnLayout, cells: [[String?]], affectedRows: Int) {
        self.layout = layout
        self.cells = cells
        self.affectedRows = affectedRows
    }

    /// Index of the first row.
    public var startIndex: Int { 0 }
    /// One past the last row.
    public var endIndex: Int { cells.count }
    /// The row at `position`.
    public subscript(position: Int) -> PostgresRow { PostgresRow(layout: layout, cells: cells[position]) }
}

/// Column names and types shared by every row of one result.
final class ColumnLayout: Sendable {
    let names: [String]
    let typeOIDs: [UInt32]
    let indexByName: [String: Int]

    init(names: [String], typeOIDs: [UInt32]) {
        self.names = names
        self.typeOIDs = typeOIDs
        var index: [String: Int] = [:]
        // With duplicate names the first column wins, as in most drivers.
        for (position, name) in names.enumerated() where index[name] == nil {
            index[name] = position
        }
        self.indexByName = index
    }
}

/// One row; decode columns by name or position into Swift types.
public struct PostgresRow: Sendable {
    let layout: ColumnLayout
    let cells: [String?]

    /// Column names in order.
    public var columns: [String] { layout.names }

    /// Decodes the column named `column`. NULL decodes only into an optional.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column: String) throws -> T {
        guard let index = layout.indexByName[column] else {
            var error = DatabaseError(code: .decodingFailed, message: "the result has no such column")
            error.column = column
            throw error
        }
        return try decode(type, at: index)
    }

    /// Decodes the column at `index` (0-based). NULL decodes only into an optional.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard cells.indices.contains(index) else {
            var error = DatabaseError(code: .decodingFailed, message: "column index \(index) is out of range")
            error.column = "#\(index)"
            throw error
        }
        let name = layout.names[index]
        guard let text = cells[index] else {
            if let null = T.postgresNull { return null }
            var error = DatabaseError(code: .decodingFailed, message: "NULL cannot be decoded as \(T.self)")
            error.column = name
            throw error
        }
        guard let value = T.decode(postgresText: text) else {
            var error = DatabaseError(
                code: .decodingFailed,
                message: "a value of type oid \(layout.typeOIDs[index]) cannot be decoded as \(T.self)"
            )
            error.column = name
            throw error
        }
        return value
    }

    /// Decodes the column at `index`; the subscript form of `decode(_:at:)`.
    public subscript<T: PostgresDecodable>(index: Int, as type: T.Type) -> T {
        get throws { try decode(type, at: index) }
    }

    /// Decodes the column named `column`; the subscript form of `decode(_:column:)`.
    public subscript<T: PostgresDecodable>(column: String, as type: T.Type) -> T {
        get throws { try decode(type, column: column) }
    }

    /// True when the column at `index` is SQL NULL.
    public func isNull(at index: Int) -> Bool { cells[index] == nil }
}
