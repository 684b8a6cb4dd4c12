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
    /// harness fires idle events itself). With `lanes`, the authenticated
    /// method has a fast path (an empty message echoes as nothing) and a fast
    /// lane's session stands in front, as `LaneServer` runs it on a socket:
    /// answers of one chunk may then come in another order than their frames.
    /// Everything is built per call: a global would show up as a false leak
    /// under LeakSanitizer.
    public static func addServerHandlers(to channel: any Channel, maximumFrameSize: Int, lanes: Bool = false) throws {
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
        if lanes {
            // The warm path reads every byte it is given, so a payload pointing
            // outside the input shows under a sanitizer.
            router.registerFastPath(for: authenticatedEchoMethod, warm: { payloads in
                precondition(payloads.reduce(0) { $0 + $1.reduce(0) { $0 + Int($1) } } >= 0)
            }) { payload, _, _ in payload.isEmpty }
        }
        var configuration = RPCServer.Configuration()
        configuration.maximumFrameSize = maximumFrameSize
        let verifier = try TokenVerifier(hs256Secret: hs256Secret)
        let logger = Logger(label: "rpc-fuzzing", factory: { _ in SwiftLogNoOpLogHandler() })
        let shared = ServerConnectionHandler.Shared(
            router: router, verifier: verifier, configuration: configuration, logger: logger, metrics: RPCServerMetrics())
        if lanes {
            let lane = LaneShared(router: router, verifier: verifier, configuration: configuration, logger: logger,
                                  metrics: RPCServerMetrics())
            try channel.pipeline.syncOperations.addHandler(LaneAdapter(session: LaneSession(shared: lane), warmer: LaneWarmer(shared: lane)))
        }
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(FrameDecoder(maximumFrameSize: maximumFrameSize)),
            ServerConnectionHandler(shared: shared),
        ])
    }
}

/// A fast lane's session in a channel pipeline, for the fuzz harness: what
/// the client sends is warmed as a poll thread warms it, then goes through
/// the session, its answers straight out and
/// the relayed frames on to the handlers behind, whose answers come back
/// through the session as `LaneServer`'s relay socket brings them.
private final class LaneAdapter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: LaneSession
    private var warmer: LaneWarmer
    private var isDraining = false

    init(session: LaneSession, warmer: LaneWarmer) {
        self.session = session
        self.warmer = warmer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        var answers = ByteBuffer(), relay = ByteBuffer()
        bytes.withUnsafeReadableBytes { input in
            if !isDraining, session.startsAFrame {
                warmer.add(input)
                warmer.warm()
            }
            session.consume(input, fast: !isDraining, at: .now(), answers: &answers, relay: &relay)
        }
        if answers.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(answers), promise: nil) }
        if relay.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(relay)) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data)
        var answers = ByteBuffer()
        bytes.withUnsafeReadableBytes { session.consumeRelayed($0, answers: &answers) }
        context.write(wrapOutboundOut(answers), promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { isDraining = true }
        context.fireUserInboundEventTriggered(event)
    }
}
