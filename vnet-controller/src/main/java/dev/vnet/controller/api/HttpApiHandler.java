package dev.vnet.controller.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vnet.controller.graph.GraphException;
import dev.vnet.registry.RegistryException;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One connection's requests, answered in the order they arrived.
 *
 * <p>Routes call the controller, which blocks (graph tasks, store writes, waiting for hosts), so they
 * must not run on the event loop: each request is handed to {@code executor} (virtual threads in the
 * server). A connection's requests are chained, each starting when the previous one has answered,
 * so a client that pipelines gets its responses in order; different connections run in parallel.
 * The response is written from the request's thread; Netty hands the write to the event loop.
 *
 * <p>Every response with a body has a Content-Length (a 204 has neither: RFC 9110 forbids the header
 * there, and Netty's encoder drops it), so a client finds its end without chunked decoding and the
 * connection can be kept alive (HttpServerKeepAliveHandler, before this handler,
 * closes it after the response when the request asked for that).
 */
final class HttpApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final int MAX_BODY_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(HttpApiHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ApiDispatcher router;
    private final Executor executor;
    /** The previous request's handling; only the event loop (channelRead0) reads and replaces it. */
    private CompletableFuture<Void> previous = CompletableFuture.completedFuture(null);

    HttpApiHandler(ApiDispatcher router, Executor executor) {
        this.router = router;
        this.executor = executor;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            // After this the stream cannot be trusted to frame the next request: answer in turn, then close.
            FullHttpResponse response = toHttp(ApiError.badRequest("malformed HTTP request: "
                    + request.decoderResult().cause().getMessage()).reply());
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            previous = previous.handleAsync((ignored, failure) -> {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return null;
            }, executor);
            return;
        }
        String method = request.method().name();
        String uri = request.uri();
        String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        byte[] body = ByteBufUtil.getBytes(request.content()); // at most MAX_BODY_BYTES; copied so the buffer is freed now
        previous = previous.handleAsync((ignored, failure) -> {
            try {
                ctx.writeAndFlush(toHttp(answer(method, uri, contentType, body)));
            } catch (Throwable e) { // an Error: no answer can be trusted now, but the client must not wait for one
                LOG.error("{} {}: no answer could be written; closing the connection", method, uri, e);
                ctx.close();
            }
            return null;
        }, executor);
    }

    /** Routes the request and turns every refusal into its error reply; writes are logged, one line each. */
    private Reply answer(String method, String uri, String contentType, byte[] body) {
        Reply reply;
        String refusal = null;
        try {
            reply = router.dispatch(method, uri, contentType, body);
        } catch (ApiError e) {
            reply = e.reply();
            refusal = e.type() + ": " + e.getMessage();
        } catch (GraphException e) {
            ApiError error = ApiError.from(e);
            reply = error.reply();
            refusal = error.type() + ": " + e.getMessage();
        } catch (RegistryException e) {
            ApiError error = ApiError.from(e);
            reply = error.reply();
            refusal = error.type() + ": " + e.getMessage();
        } catch (dev.vnet.controller.cluster.FencedConfigStore.NotWriterException e) {
            ApiError error = new ApiError(503, "NotWriter", e.getMessage() + "; retry: the new writer takes it");
            reply = error.reply();
            refusal = error.type() + ": " + e.getMessage();
        } catch (RuntimeException e) {
            LOG.error("{} {} failed", method, uri, e);
            reply = new ApiError(500, "InternalError", "the controller failed to handle the request: " + e).reply();
            refusal = e.toString();
        }
        if (!method.equals("GET")) {
            String version = reply.headers().get(NorthboundApi.VERSION_HEADER);
            if (refusal == null) {
                LOG.info("{} {} -> {} version {}", method, uri, reply.status(), version);
            } else {
                LOG.info("{} {} -> {} refused: {}", method, uri, reply.status(), refusal);
            }
        }
        return reply;
    }

    static FullHttpResponse toHttp(Reply reply) {
        byte[] bytes;
        try {
            bytes = reply.body() == null ? new byte[0] : JSON.writeValueAsBytes(reply.body());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status()),
                Unpooled.wrappedBuffer(bytes));
        if (reply.body() != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
        }
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        reply.headers().forEach(response.headers()::set);
        return response;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("closing API connection {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    /**
     * Refuses a body over {@link #MAX_BODY_BYTES} with a 413 in the API's error format, then ends the
     * connection with a lingering close: the rest of the body may still be arriving, and closing at once
     * with it unread makes the kernel answer with a reset, which can destroy the 413 before the client
     * read it. So the server only shuts its sending side, drops what still arrives (the aggregator
     * ignores the rest of an oversized message), and closes after {@link #LINGER_SECONDS} or when the
     * client does.
     */
    static final class BoundedAggregator extends HttpObjectAggregator {
        static final long LINGER_SECONDS = 2;

        BoundedAggregator() {
            super(MAX_BODY_BYTES);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
            if (!(oversized instanceof HttpRequest)) {
                super.handleOversizedMessage(ctx, oversized);
                return;
            }
            FullHttpResponse response = toHttp(new ApiError(413, "RequestEntityTooLarge",
                    "the body is larger than " + MAX_BODY_BYTES + " bytes").reply());
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(written -> {
                if (ctx.channel() instanceof io.netty.channel.socket.DuplexChannel duplex && written.isSuccess()) {
                    duplex.shutdownOutput();
                    ctx.executor().schedule(() -> ctx.close(), LINGER_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                } else {
                    ctx.close();
                }
            });
        }
    }
}
