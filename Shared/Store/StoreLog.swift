/// Logger metadata keys used by the store, prefixed so they never clash with a service's.
/// Parameter values are never logged.
enum StoreLog {
    static let connectionID = "store.connection_id"
    static let schema = "store.schema"
    static let migration = "store.migration"
    static let attempt = "store.attempt"
    static let sqlState = "store.sqlstate"
    static let channels = "store.channels"
    static let error = "store.error"
}
