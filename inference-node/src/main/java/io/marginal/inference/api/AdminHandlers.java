package io.marginal.inference.api;

import io.marginal.inference.adapters.AdapterSnapshot;
import io.marginal.inference.adapters.UserAdapterCache;
import io.marginal.inference.auth.Principal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Operator endpoints; the admin key only. */
final class AdminHandlers {

  private final NodeServices services;

  AdminHandlers(NodeServices services) {
    this.services = services;
  }

  void requireAdmin(RoutingContext ctx) {
    Principal p = ctx.get(Principal.CONTEXT_KEY);
    if (!p.admin()) {
      throw ApiError.forbidden("This endpoint needs the admin key (MARGINAL_ADMIN_KEY); a user key cannot manage adapters"
          + " or read node metrics.");
    }
    ctx.next();
  }

  /** {@code GET /v1/adapters}: served versions, per-user adapter versions, cache figures, refusals. */
  void adapters(RoutingContext ctx) {
    AdapterSnapshot s = services.adapters().snapshot();
    JsonArray shared = new JsonArray();
    s.shared().values().forEach(a -> shared.add(new JsonObject().put("adapter_id", a.adapterId()).put("scope", a.scope().toString())
        .put("version", a.version()).put("sha256", a.sha256()).put("activated_at", a.activatedAt().toString())));
    JsonArray users = new JsonArray();
    s.userAdapters().forEach((user, v) -> users.add(new JsonObject().put("adapter_id", v.adapterId())
        .put("scope", v.scope().toString()).put("version", v.version()).put("sha256", v.sha256())));
    JsonObject rejected = new JsonObject();
    services.adapterWatcher().rejections().forEach((id, r) -> rejected.put(id, new JsonObject().put("version", r.version())
        .put("reason", r.reason()).put("at", r.at().toString())));
    UserAdapterCache c = services.adapters().userCache();
    JsonArray engines = new JsonArray(); // what each batching engine merged into the weights it steps with
    services.generation().mergedAdapters().forEach(m -> engines.add(new JsonObject().put("merged", new JsonArray(m))));
    JsonObject body = new JsonObject().put("object", "adapter_list").put("node_id", services.config().nodeId())
        .put("base_model", services.config().modelId()).put("generation", s.generation())
        .put("shared", shared).put("user_adapters", users).put("rejected", rejected).put("batch_engines", engines)
        .put("user_cache", new JsonObject().put("budget_bytes", c.budgetBytes()).put("bytes", c.bytes()).put("loaded", c.size()).put("hits", c.hits())
            .put("misses", c.misses()).put("evictions", c.evictions()).put("prefetches", c.prefetches()).put("mean_miss_wait_ms", c.meanMissMillis()));
    ctx.response().putHeader("content-type", "application/json").end(body.encode());
  }

  /** {@code POST /v1/adapters/reload}: reads the adapters topic again, retrying refused versions. */
  void reload(RoutingContext ctx) {
    services.reloadAdapters().run();
    ctx.response().setStatusCode(202).putHeader("content-type", "application/json")
        .end(new JsonObject().put("status", "reloading")
            .put("note", "the adapters topic is read again from the start; watch adapter-activations or GET /v1/adapters").encode());
  }
}
