package io.marginal.inference.api;

import io.marginal.inference.auth.Principal;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of the node: an OpenAI-compatible API plus the user-data, admin and operations
 * endpoints. Builds the router, mounts small named handlers, and listens. Nothing here blocks:
 * model work goes to the worker pool, Kafka sends complete asynchronously.
 */
public final class InferenceVerticle extends AbstractVerticle {

  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);

  private final NodeServices services;
  private final RequestGate gate;
  private HttpServer server;
  private Router router;

  public InferenceVerticle(NodeServices services, RequestGate gate) {
    this.services = services;
    this.gate = gate;
  }

  static final long BODY_READ_TIMEOUT_MS = 10_000;
  private static final String BODY_TIMER = "marginal.bodyTimer";

  @Override
  public void start(Promise<Void> started) {
    Router router = Router.router(vertx);
    this.router = router;
    OpsHandlers ops = new OpsHandlers(services, gate);
    ModelsHandler models = new ModelsHandler(services);
    UserDataHandlers userData = new UserDataHandlers(services);
    AdminHandlers admin = new AdminHandlers(services);

    router.route().handler(this::countRequest);
    router.get("/health").handler(ops::health);
    router.get("/ready").handler(ops::ready);
    // /metrics names adapters and load: operators only (Prometheus sends the admin key as a bearer token).
    router.get("/metrics").handler(this::authenticate).handler(admin::requireAdmin).handler(ops::metrics);
    mountConsole(router);

    router.route("/v1/*").handler(this::admit);
    router.route("/v1/*").handler(this::startBodyTimer);
    router.route("/v1/*").handler(BodyHandler.create(false).setBodyLimit(services.config().maxBodyBytes()));
    router.route("/v1/*").handler(this::stopBodyTimer);
    router.route("/v1/*").handler(this::authenticate);
    router.post("/v1/chat/completions").handler(new ChatCompletionsHandler(services));
    router.get("/v1/models").handler(models::list);
    router.get("/v1/models/:id").handler(models::one);
    router.post("/v1/feedback").handler(userData::feedback);
    router.post("/v1/deletions").handler(userData::deletion);
    router.get("/v1/users/:id/memory").handler(userData::memory);
    router.get("/v1/users/:id/receipts").handler(userData::receipts);
    router.get("/v1/me").handler(userData::me);
    router.route("/v1/adapters*").handler(admin::requireAdmin);
    router.get("/v1/adapters").handler(admin::adapters);
    router.post("/v1/adapters/reload").handler(admin::reload);

    router.route().failureHandler(this::failure);
    router.errorHandler(404, ctx -> new ApiError(404, "invalid_request_error", "unknown_url", null,
        "Unknown request URL: " + ctx.request().method() + " " + ctx.request().path()
            + ". See the node's README for the endpoints.").send(ctx));
    router.errorHandler(405, ctx -> new ApiError(405, "invalid_request_error", "method_not_allowed", null,
        ctx.request().method() + " is not allowed on " + ctx.request().path() + ".").send(ctx));

    // Idle connections close once no byte moved for longer than any request may take (queue + generation).
    int idleSeconds = (int) services.config().requestTimeout().plusSeconds(30).toSeconds();
    server = vertx.createHttpServer(new HttpServerOptions().setHost(services.config().httpHost())
        .setPort(services.config().httpPort()).setCompressionSupported(false).setIdleTimeout(idleSeconds));
    // A client that drops its connection is routine: one line, no stack trace.
    server.exceptionHandler(e -> LOG.debug("connection error: {}", e.toString()));
    server.requestHandler(router).listen().onSuccess(s -> {
      LOG.info("inference API listening on http://{}:{}/v1", services.config().httpHost(), s.actualPort());
      started.complete();
    }).onFailure(e -> started.fail(new IllegalStateException("cannot listen on " + services.config().httpHost() + ":"
        + services.config().httpPort() + ": " + e.getMessage() + " (set MARGINAL_HTTP_PORT)", e)));
  }

  /**
   * The web console: static files from the classpath, no auth (the page asks for an API key and
   * sends it on every API call). The policy keeps the page to this origin: no CDN, no inline script.
   */
  private static void mountConsole(Router router) {
    // Vert.x routes ignore a trailing slash, so "/console" also matches "/console/": redirect only the bare path.
    router.get("/console").handler(ctx -> {
      if (ctx.request().path().equals("/console")) {
        ctx.redirect("/console/");
      } else {
        ctx.next();
      }
    });
    router.route("/console/*").handler(ctx -> {
      ctx.response().putHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none';"
          + " base-uri 'none'; frame-ancestors 'none'").putHeader("X-Content-Type-Options", "nosniff")
          .putHeader("Referrer-Policy", "no-referrer");
      ctx.next();
    });
    router.route("/console/*").handler(StaticHandler.create("console").setCachingEnabled(false)
        .setIndexPage("index.html").setDefaultContentEncoding("UTF-8"));
  }

  /** Every route as "METHOD path" (a route without a method is listed as "* path"), for the access walk test. */
  public java.util.List<String> routes() {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (io.vertx.ext.web.Route r : router.getRoutes()) {
      if (r.getPath() == null) {
        continue;
      }
      if (r.methods() == null || r.methods().isEmpty()) {
        out.add("* " + r.getPath());
      } else {
        r.methods().forEach(m -> out.add(m.name() + " " + r.getPath()));
      }
    }
    return out;
  }

  public int actualPort() {
    return server.actualPort();
  }

  @Override
  public void stop(Promise<Void> stopped) {
    server.close().onComplete(r -> stopped.complete());
  }

  private void countRequest(RoutingContext ctx) {
    String route = routeName(ctx.request().path());
    ctx.addEndHandler(v -> services.metrics().request(route, ctx.response().getStatusCode()));
    ctx.next();
  }

  static String routeName(String path) {
    if (path.startsWith("/v1/users/")) {
      return path.endsWith("/receipts") ? "/v1/users/{id}/receipts" : "/v1/users/{id}/memory";
    }
    if (path.startsWith("/console")) {
      return "/console";
    }
    if (path.startsWith("/v1/models/")) {
      return "/v1/models/{id}";
    }
    return switch (path) {
      case "/health", "/ready", "/metrics", "/v1/chat/completions", "/v1/models", "/v1/me", "/v1/feedback", "/v1/deletions",
          "/v1/adapters", "/v1/adapters/reload" -> path;
      default -> "other";
    };
  }

  private void admit(RoutingContext ctx) {
    if (!gate.tryEnter()) {
      ctx.response().putHeader("Connection", "close");
      new ApiError(503, "server_error", "shutting_down", null,
          "This node is shutting down and takes no new requests; retry on another node.").send(ctx);
      return;
    }
    ctx.addEndHandler(v -> gate.exit());
    ctx.next();
  }

  /**
   * A request body must arrive within {@link #BODY_READ_TIMEOUT_MS}: a client that sends half a body
   * and stalls gets 408 and its connection closed, instead of holding a connection (and a slot of the
   * shutdown gate) until the idle timeout.
   */
  private void startBodyTimer(RoutingContext ctx) {
    long timer = vertx.setTimer(BODY_READ_TIMEOUT_MS, id -> {
      if (ctx.response().ended() || ctx.response().closed()) {
        return;
      }
      LOG.info("{} {}: request body not received within {} ms; closing the connection", ctx.request().method(),
          ctx.request().path(), BODY_READ_TIMEOUT_MS);
      ctx.response().putHeader("Connection", "close");
      new ApiError(408, "invalid_request_error", "request_timeout", null, "The request body did not arrive within "
          + BODY_READ_TIMEOUT_MS / 1000 + " s; send the whole body at once.").send(ctx);
      ctx.request().connection().close();
    });
    ctx.put(BODY_TIMER, timer);
    ctx.addEndHandler(v -> vertx.cancelTimer(timer));
    ctx.next();
  }

  private void stopBodyTimer(RoutingContext ctx) {
    Long timer = ctx.get(BODY_TIMER);
    if (timer != null) {
      vertx.cancelTimer(timer);
    }
    ctx.next();
  }

  private void authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    var principal = services.authenticator().authenticate(header);
    if (principal.isEmpty()) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      throw ApiError.unauthorized(header == null
          ? "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer YOUR_KEY'."
          : "Incorrect API key provided. Check the key, or ask the operator for one (MARGINAL_API_KEYS).");
    }
    ctx.put(Principal.CONTEXT_KEY, principal.get());
    ctx.next();
  }

  private void failure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ApiError api) {
      api.send(ctx);
      return;
    }
    int status = ctx.statusCode();
    ApiError api = switch (status) {
      case 413 -> new ApiError(413, "invalid_request_error", "request_too_large", null, "The request body is larger than "
          + services.config().maxBodyBytes() + " bytes (MARGINAL_MAX_BODY_BYTES). Send a shorter conversation.");
      case 400 -> ApiError.badJson(failure == null ? "bad request" : failure.getMessage());
      default -> null;
    };
    if (api == null) {
      if (failure != null) {
        LOG.error("{} {} failed: {}", ctx.request().method(), ctx.request().path(), failure.toString(), failure);
      }
      api = new ApiError(status > 0 ? status : 500, "server_error", "internal_error", null,
          "The node failed on " + ctx.request().method() + " " + ctx.request().path() + "; the error is in its log.");
    }
    if (ctx.request().method() == HttpMethod.HEAD) {
      ctx.response().setStatusCode(api.status()).end();
      return;
    }
    api.send(ctx);
  }
}
