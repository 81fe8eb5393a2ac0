package io.marginal.inference.api;

import io.marginal.metrics.ServiceMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** {@code /health} (the process answers), {@code /ready} (it should get traffic), {@code /metrics} (Prometheus). */
final class OpsHandlers {

  private final NodeServices services;
  private final RequestGate gate;

  OpsHandlers(NodeServices services, RequestGate gate) {
    this.services = services;
    this.gate = gate;
  }

  void health(RoutingContext ctx) {
    ctx.response().putHeader("content-type", "application/json").end(new JsonObject().put("status", "ok").encode());
  }

  void ready(RoutingContext ctx) {
    List<String> reasons = new java.util.ArrayList<>(services.notReady().get());
    if (gate.isClosed()) {
      reasons.add("shutting down: draining " + gate.inFlight() + " requests");
    }
    JsonObject body = new JsonObject().put("status", reasons.isEmpty() ? "ready" : "not_ready").put("reasons", new JsonArray(reasons));
    ctx.response().setStatusCode(reasons.isEmpty() ? 200 : 503).putHeader("content-type", "application/json").end(body.encode());
  }

  /** Rendering every meter (JVM ones included) is off the event loop. */
  void metrics(RoutingContext ctx) {
    ctx.vertx().executeBlocking(() -> services.metrics().scrape(), false).onComplete(r -> {
      if (r.failed()) {
        ctx.fail(r.cause());
      } else {
        ctx.response().putHeader("content-type", ServiceMetrics.CONTENT_TYPE).end(r.result());
      }
    });
  }
}
