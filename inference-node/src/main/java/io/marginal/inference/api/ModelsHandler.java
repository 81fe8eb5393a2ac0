package io.marginal.inference.api;

import io.marginal.inference.adapters.AdapterSnapshot;
import io.marginal.inference.adapters.PublishedVersion;
import io.marginal.inference.adapters.ServedAdapter;
import io.marginal.inference.auth.Principal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/models}: exactly what this node serves to the caller — the base model, the bare
 * base ({@code :none}), each shared adapter and the caller's own adapter, each with the version
 * and checksum prefix in use. As vLLM lists LoRA modules: every entry's {@code root} is the base
 * checkpoint; {@code parent} is null for the base entries and the base model's id for an adapter.
 */
final class ModelsHandler {

  private final NodeServices services;
  private final long created = System.currentTimeMillis() / 1000;

  ModelsHandler(NodeServices services) {
    this.services = services;
  }

  void list(RoutingContext ctx) {
    Principal p = ctx.get(Principal.CONTEXT_KEY);
    JsonArray data = models(p);
    ctx.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("object", "list").put("data", data).encode());
  }

  void one(RoutingContext ctx) {
    Principal p = ctx.get(Principal.CONTEXT_KEY);
    String id = ctx.pathParam("id");
    for (Object o : models(p)) {
      JsonObject m = (JsonObject) o;
      if (m.getString("id").equals(id)) {
        ctx.response().putHeader("content-type", "application/json").end(m.encode());
        return;
      }
    }
    throw ApiError.modelNotFound(id, "see GET /v1/models");
  }

  private JsonArray models(Principal p) {
    String base = services.config().modelId();
    AdapterSnapshot s = services.adapters().snapshot();
    JsonArray data = new JsonArray();
    JsonArray applied = new JsonArray();
    s.shared().values().forEach(a -> applied.add(a.label()));
    PublishedVersion own = p.admin() ? null : s.userAdapters().get(p.userId());
    if (own != null) {
      applied.add(own.label());
    }
    data.add(model(base, null).put("marginal", new JsonObject().put("adapters", applied)
        .put("description", "base model with every shared adapter and your own adapter, CM-personalized from your memory bank")));
    data.add(model(base + ":none", null).put("marginal", new JsonObject().put("adapters", new JsonArray())
        .put("description", "the base model without adapters")));
    for (ServedAdapter a : s.shared().values()) {
      data.add(model(base + ":" + a.adapterId(), base).put("marginal", new JsonObject().put("adapters", new JsonArray().add(a.label()))
          .put("scope", a.scope().toString()).put("version", a.version()).put("sha256", a.sha256())));
    }
    if (own != null) {
      data.add(model(base + ":" + own.adapterId(), base).put("marginal", new JsonObject().put("adapters", new JsonArray().add(own.label()))
          .put("scope", own.scope().toString()).put("version", own.version()).put("sha256", own.sha256())));
    }
    return data;
  }

  private JsonObject model(String id, String parent) {
    return new JsonObject().put("id", id).put("object", "model").put("created", created).put("owned_by", "marginal")
        .put("root", services.config().modelId()).put("parent", parent);
  }
}
