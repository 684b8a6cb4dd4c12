import Credentials
import Logging
import Outbox
public import RPC
public import ServiceLifecycle
public import ServiceRuntime
public import Store

/// The inbound-call hot path. Owns schema `lookup`: a projection of
/// inventory's and assignment's events, held in memory and answered from there.
public enum LookupService: ServiceDefinition {
    public static let name = "lookup"
    public static let defaultPort = 7103
    /// Answers from memory while Postgres is away.
    public static let servesWithoutDatabase = true

    public static var migrations: [Migration] { LookupSchema.migrations }

    public static func configure(router: inout RPCRouter, context: ServiceContext) throws -> [any Service] {
        let projection = LookupProjection(context: context, schema: name)
        var keyRing: CredentialKeyRing?
        if context.settings.credentialKeys != nil {
            keyRing = try context.settings.credentialKeyRing()
        } else {
            context.logger.warning("PHONE_CREDENTIAL_KEYS is not set; lookup cannot return credentials")
        }
        LookupHandlers(projection: projection, keyRing: keyRing).register(in: &router)
        return [projection]
    }
}
