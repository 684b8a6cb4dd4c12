import Auth
import Logging
public import NIOCore
import Protos

/// Not API. The hook of the fuzz harness `Fuzz/RPCFuzz` (scripts/fuzz.sh),
/// which drives the server's connection pipeline without a socket. Public only
/// because the harness is another module; nothing else may use it, and it may
/// change or disappear in any release.
public enum _RPCFuzzing {
    /// An anonymous inline method that echoes a `TestingV1.KitchenSink`, and
    /// fails with FAILED_PRECONDITION (one field violation) when its
    /// `f_string` is "fail".
    public static let echoMethod = "phonenumbers.fuzz.v1.Fuzz/Echo"
    /// The same for any authenticated caller only: puts token verification in
    /// the fuzzed path.
    public static let authenticatedEchoMethod = "phonenumbers.fuzz.v1.Fuzz/AuthenticatedEcho"
    /// The HS256 secret the pipeline's verifier accepts (for seed tokens).
    public static let hs256Secret = Array("rpc-fuzzing-only-secret-0123456789".utf8)

    /// Adds to `channel`, on its event loop, the handlers `RPCServer` gives a
    /// connection (the frame decoder, then `ServerConnectionHandler`) serving
    /// only the two inline methods above; the idle handler is left out (the
    /// harness fires idle events itself). Everything is built per call: a
    /// global would show up as a false leak under LeakSanitizer.
    public static func addServerHandlers(to channel: any Channel, maximumFrameSize: Int) throws {
        var router = RPCRouter()
        let echo: @Sendable (TestingV1.KitchenSink, RPCContext) throws -> TestingV1.KitchenSink = { request, _ in
            if request.fString == "fail" {
                throw RPCError(.failedPrecondition, "asked to fail",
                               fieldViolations: [.init(field: "f_string", description: "asked to fail")])
            }
            return request
        }
        router.registerInline(MethodDescriptor(echoMethod, access: .anonymous), echo)
        router.registerInline(MethodDescriptor(authenticatedEchoMethod, access: .anyAuthenticated), echo)
        var configuration = RPCServer.Configuration()
        configuration.maximumFrameSize = maximumFrameSize
        let shared = ServerConnectionHandler.Shared(
            router: router, verifier: try TokenVerifier(hs256Secret: hs256Secret), configuration: configuration,
            logger: Logger(label: "rpc-fuzzing", factory: { _ in SwiftLogNoOpLogHandler() }),
            metrics: RPCServerMetrics())
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FrameDecoder(maximumFrameSize: maximumFrameSize)),
            ServerConnectionHandler(shared: shared),
        ])
    }
}
