import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection of the observability endpoint. NIO's server
/// pipeline parses requests (answering 400 to garbage) and orders pipelined
/// ones; this handler routes, answers and enforces the body and idle limits.
final class ObservabilityHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: ObservabilityRoutes
    private let maximumBodyBytes: Int
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    /// Set once the connection is being closed; later input is ignored.
    private var closing = false

    init(routes: ObservabilityRoutes, maximumBodyBytes: Int) {
        self.routes = routes
        self.maximumBodyBytes = maximumBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            bodyBytes = 0
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
            if bodyBytes > maximumBodyBytes {
                respond(context: context, ObservabilityRoutes.bodyTooLarge(), keepAlive: false, includeBody: true)
            }
        case .end:
            guard let request = head else { return }
            head = nil
            route(context: context, request)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            closing = true
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closing = true
        context.close(promise: nil)
    }

    private func route(context: ChannelHandlerContext, _ request: HTTPRequestHead) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let keepAlive = request.isKeepAlive
        let includeBody = request.method != .HEAD
        guard path == "/metrics" || path == "/health" else {
            respond(context: context, ObservabilityRoutes.notFound(), keepAlive: keepAlive, includeBody: includeBody)
            return
        }
        guard request.method == .GET || request.method == .HEAD else {
            respond(context: context, ObservabilityRoutes.methodNotAllowed(), keepAlive: keepAlive, includeBody: true)
            return
        }
        if path == "/metrics" {
            respond(context: context, routes.metrics(), keepAlive: keepAlive, includeBody: includeBody)
            return
        }
        // The health check may ask the database; answer from the event loop when it returns.
        let routes = self.routes
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let answer = await routes.health()
            eventLoop.execute {
                this.value.respond(context: boundContext.value, answer, keepAlive: keepAlive, includeBody: includeBody)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, _ answer: ObservabilityRoutes.Answer, keepAlive: Bool, includeBody: Bool) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: answer.contentType)
        headers.add(name: "content-length", value: String(answer.body.count))
        headers.add(name: "cache-control", value: "no-store")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: Int(answer.status)), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if includeBody {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
