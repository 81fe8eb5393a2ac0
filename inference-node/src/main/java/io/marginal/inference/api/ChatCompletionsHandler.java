package io.marginal.inference.api;

import io.marginal.inference.adapters.AdapterRejectedException;
import io.marginal.inference.auth.Principal;
import io.marginal.inference.generation.ChatCall;
import io.marginal.inference.generation.ChatOutcome;
import io.marginal.inference.generation.ChatSink;
import io.marginal.inference.generation.ModelWorkerPool;
import io.marginal.inference.generation.PromptTooLongException;
import io.marginal.inference.generation.RequestTimeoutException;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/chat/completions}: validates on the event loop, hands the work to the bounded
 * model pool (429 with Retry-After when it is full), and writes the answer — as one JSON body, or
 * as server-sent events ending in {@code data: [DONE]}. The event loop only routes and writes;
 * tokens produced on a worker are posted back to the request's context in order.
 */
final class ChatCompletionsHandler implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(ChatCompletionsHandler.class);
  static final String INTERACTION_HEADER = "x-marginal-interaction-id";
  static final String ADAPTERS_HEADER = "x-marginal-adapters";

  private final NodeServices services;
  private final ChatRequestParser parser;

  ChatCompletionsHandler(NodeServices services) {
    this.services = services;
    this.parser = new ChatRequestParser(services.config(), services.adapters(),
        services.chat().model().tokenizer()::unrepresentableCharacters,
        SamplingDefaults.of(services.chat().model().generationDefaults()));
  }

  @Override
  public void handle(RoutingContext ctx) {
    Principal principal = ctx.get(Principal.CONTEXT_KEY);
    if (principal.admin()) {
      throw ApiError.forbidden("The admin key cannot chat: it belongs to no user. Use a user's API key.");
    }
    ChatRequestParser.Parsed req = parser.parse(Bodies.json(ctx), principal);
    String interactionId = UUID.randomUUID().toString();
    long started = System.nanoTime();
    ChatCall call = new ChatCall(interactionId, principal.userId(), req.model(), req.messages(), req.generation(),
        req.selection(), started + services.config().requestTimeout().toNanos());
    Exchange exchange = new Exchange(ctx, req, interactionId, started);
    if (req.selection().kind() != io.marginal.inference.adapters.AdapterSelection.Kind.NONE) {
      services.adapters().prefetch(principal.userId()); // a cold per-user adapter loads while the request waits for a worker
    }
    CompletableFuture<ChatOutcome> work;
    try {
      work = services.workers().submit(() -> services.chat().answer(call, exchange));
    } catch (ModelWorkerPool.QueueFullException e) {
      services.metrics().queueFull();
      ctx.response().putHeader("Retry-After", String.valueOf(e.retryAfterSeconds()));
      new ApiError(429, "rate_limit_error", "queue_full", null, e.getMessage()).send(ctx);
      return;
    }
    work.whenComplete((outcome, error) -> exchange.context.runOnContext(v -> {
      if (error != null) {
        exchange.fail(error);
      } else {
        exchange.complete(outcome);
      }
    }));
  }

  /** One request's response: collects or streams what the worker produces. */
  private final class Exchange implements ChatSink {
    final RoutingContext ctx;
    final Context context;
    final ChatRequestParser.Parsed req;
    final String id;
    final String interactionId;
    final long started;
    final long created = System.currentTimeMillis() / 1000;
    volatile boolean clientGone;
    /** Streamed deltas not yet written: a worker adds, the event loop writes all that queued in one write. */
    private final ConcurrentLinkedQueue<String> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    /** A content chunk's JSON around its delta, so a token costs one string quote instead of building a JSON tree. */
    private String[] contentChunk;
    private boolean firstText = true; // written by the one worker thread producing this answer

    Exchange(RoutingContext ctx, ChatRequestParser.Parsed req, String interactionId, long started) {
      this.ctx = ctx;
      this.context = ctx.vertx().getOrCreateContext();
      this.req = req;
      this.interactionId = interactionId;
      this.id = "chatcmpl-" + interactionId;
      this.started = started;
      ctx.response().closeHandler(v -> clientGone = true);
    }

    @Override
    public void begin(List<String> adapterLabels, int promptTokens) {
      context.runOnContext(v -> {
        HttpServerResponse r = ctx.response();
        if (r.closed() || r.headWritten()) {
          return;
        }
        r.putHeader(INTERACTION_HEADER, interactionId).putHeader(ADAPTERS_HEADER, String.join(",", adapterLabels));
        if (req.stream()) {
          r.setStatusCode(200).setChunked(true)
              .putHeader("content-type", "text/event-stream; charset=utf-8")
              .putHeader("cache-control", "no-cache")
              .putHeader("x-accel-buffering", "no");
          event(r, chunk(new JsonObject().put("role", "assistant").put("content", ""), null));
        }
      });
    }

    @Override
    public boolean text(String delta) {
      if (clientGone) {
        return false;
      }
      if (firstText) {
        firstText = false;
        services.metrics().firstToken(System.nanoTime() - started);
      }
      if (req.stream()) {
        pending.add(delta);
        if (drainScheduled.compareAndSet(false, true)) {
          context.runOnContext(v -> writePending());
        }
      }
      return true;
    }

    /**
     * On the event loop: every delta that queued since the last call, as one SSE event each (the bytes
     * are those of {@link #chunk} with the delta), in a single write.
     */
    private void writePending() {
      drainScheduled.set(false);
      StringBuilder events = null;
      for (String delta = pending.poll(); delta != null; delta = pending.poll()) {
        if (events == null) {
          events = new StringBuilder();
          if (contentChunk == null) {
            String marker = "\u0001delta\u0001";
            String template = chunk(new JsonObject().put("content", marker), null).encode();
            int at = template.indexOf(Json.encode(marker));
            contentChunk = new String[] {template.substring(0, at), template.substring(at + Json.encode(marker).length())};
          }
        }
        events.append("data: ").append(contentChunk[0]).append(Json.encode(delta)).append(contentChunk[1]).append("\n\n");
      }
      if (events != null && !ctx.response().closed()) {
        ctx.response().write(events.toString());
      }
    }

    void complete(ChatOutcome outcome) {
      services.metrics().chatLatency((System.nanoTime() - started) / 1e9);
      if (outcome.ended() == ChatOutcome.Ended.CLIENT_GONE) {
        LOG.info("interaction {}: client went away after {} tokens; not recorded", interactionId, outcome.completionTokens());
        return;
      }
      if (outcome.ended() == ChatOutcome.Ended.TIMED_OUT) {
        services.metrics().timeout();
        fail(new RequestTimeoutException("generation ran past the node's limit of " + services.config().requestTimeout()
            + " (MARGINAL_REQUEST_TIMEOUT); ask for fewer max_tokens or retry later"));
        return;
      }
      // The answer counts as served once Kafka has its interaction record: feedback can join it.
      outcome.recorded().orTimeout(10, TimeUnit.SECONDS).whenComplete((ok, e) -> context.runOnContext(v -> respond(outcome)));
    }

    private void respond(ChatOutcome outcome) {
      HttpServerResponse r = ctx.response();
      if (r.closed()) {
        return;
      }
      JsonObject usage = new JsonObject().put("prompt_tokens", outcome.promptTokens())
          .put("completion_tokens", outcome.completionTokens())
          .put("total_tokens", outcome.promptTokens() + outcome.completionTokens());
      JsonObject marginal = new JsonObject().put("interaction_id", interactionId)
          .put("adapters", new JsonArray(outcome.adapterLabels())).put("personalized", outcome.personalized())
          .put("candidates", outcome.candidates());
      if (req.stream()) {
        writePending();
        event(r, chunk(new JsonObject(), outcome.finishReason()).put("marginal", marginal));
        if (req.includeUsage()) {
          event(r, base().put("choices", new JsonArray()).put("usage", usage));
        }
        r.end("data: [DONE]\n\n");
        return;
      }
      JsonObject body = base().put("object", "chat.completion")
          .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
              .put("message", new JsonObject().put("role", "assistant").put("content", outcome.text()).putNull("refusal"))
              .putNull("logprobs").put("finish_reason", outcome.finishReason())))
          .put("usage", usage).put("marginal", marginal);
      r.setStatusCode(200).putHeader("content-type", "application/json").end(body.encode());
    }

    void fail(Throwable error) {
      Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      ApiError api = toApiError(e);
      if (api.status() == 500) {
        LOG.error("interaction {}: {}", interactionId, e.toString(), e);
      } else if (api.status() > 500) {
        LOG.warn("interaction {}: {}", interactionId, e.getMessage());
      }
      HttpServerResponse r = ctx.response();
      if (r.closed()) {
        return;
      }
      if (r.headWritten()) {
        writePending();
        event(r, api.body());
        r.end("data: [DONE]\n\n");
      } else {
        api.send(ctx);
      }
    }

    private ApiError toApiError(Throwable e) {
      if (e instanceof ApiError a) {
        return a;
      }
      if (e instanceof PromptTooLongException) {
        return new ApiError(400, "invalid_request_error", "context_length_exceeded", "messages", e.getMessage());
      }
      if (e instanceof RequestTimeoutException) {
        return new ApiError(504, "timeout_error", "timeout", null, e.getMessage());
      }
      if (e instanceof NoSuchElementException) {
        return ApiError.modelNotFound(req.model(), "see GET /v1/models: the adapter was withdrawn while the request waited");
      }
      if (e instanceof AdapterRejectedException) {
        return new ApiError(503, "server_error", "adapter_unavailable", "model", e.getMessage());
      }
      return new ApiError(500, "server_error", "internal_error", null, "The node failed while generating interaction "
          + interactionId + " (" + e.getClass().getSimpleName() + "); the error is in the node's log under that id.");
    }

    private JsonObject base() {
      return new JsonObject().put("id", id).put("object", "chat.completion.chunk").put("created", created)
          .put("model", req.model()).put("system_fingerprint", services.config().nodeId());
    }

    private JsonObject chunk(JsonObject delta, String finishReason) {
      return base().put("choices", new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
          .putNull("logprobs").put("finish_reason", finishReason)));
    }

    private void event(HttpServerResponse r, JsonObject data) {
      r.write("data: " + data.encode() + "\n\n");
    }
  }
}
