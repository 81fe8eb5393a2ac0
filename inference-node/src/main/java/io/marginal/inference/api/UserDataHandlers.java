package io.marginal.inference.api;

import io.marginal.inference.auth.Principal;
import io.marginal.schemas.BankEntry;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.ErasedItem;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import io.marginal.schemas.validation.DeletionRules;
import io.marginal.schemas.validation.FeedbackRules;
import io.marginal.schemas.validation.Violation;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * A user's own data: feedback and deletion requests published to Kafka for clients that do not
 * produce directly (always keyed by the authenticated user — the body cannot name another), and
 * the user's memory bank and deletion receipts as this node's replicas hold them.
 */
final class UserDataHandlers {

  private final NodeServices services;

  UserDataHandlers(NodeServices services) {
    this.services = services;
  }

  /** {@code POST /v1/feedback {interaction_id, kind, preferred_response?, rating?, comment?}}. */
  void feedback(RoutingContext ctx) {
    String user = userOf(ctx);
    JsonObject body = Bodies.json(ctx);
    refuseOtherUser(body, user);
    String interactionId = requiredString(body, "interaction_id");
    if (interactionId.startsWith("chatcmpl-")) {
      interactionId = interactionId.substring("chatcmpl-".length());
    }
    FeedbackKind kind = enumValue(FeedbackKind.class, requiredString(body, "kind"), "kind");
    String preferred = optionalString(body, "preferred_response");
    String comment = optionalString(body, "comment");
    Integer rating = null;
    if (body.getValue("rating") != null) {
      if (!(body.getValue("rating") instanceof Number n) || n.intValue() != n.doubleValue() || n.intValue() < 1 || n.intValue() > 5) {
        throw ApiError.invalid("rating", "'rating' must be an integer from 1 to 5, got " + body.getValue("rating") + ".");
      }
      rating = ((Number) body.getValue("rating")).intValue();
    }
    Feedback feedback = Feedback.newBuilder().setFeedbackId(UUID.randomUUID().toString()).setUserId(user)
        .setInteractionId(interactionId).setTimestamp(Instant.now()).setKind(kind).setPreferredResponse(preferred)
        .setRating(rating).setComment(comment).build();
    FeedbackRules.violation(feedback).ifPresent(UserDataHandlers::refuse);
    accepted(ctx, services.publisher().feedback(feedback), new JsonObject().put("id", feedback.getFeedbackId())
        .put("object", "feedback").put("status", "accepted").put("interaction_id", interactionId)
        .put("kind", kind.name().toLowerCase(Locale.ROOT)));
  }

  /** {@code POST /v1/deletions {scope, target_ids?, concept?}}. */
  void deletion(RoutingContext ctx) {
    String user = userOf(ctx);
    JsonObject body = Bodies.json(ctx);
    refuseOtherUser(body, user);
    DeletionScope scope = enumValue(DeletionScope.class, requiredString(body, "scope"), "scope");
    List<String> targets = new ArrayList<>();
    Object raw = body.getValue("target_ids");
    if (raw != null) {
      if (!(raw instanceof JsonArray a) || !a.stream().allMatch(x -> x instanceof String)) {
        throw ApiError.invalid("target_ids", "'target_ids' must be an array of strings.");
      }
      a.forEach(x -> targets.add(((String) x).startsWith("chatcmpl-") ? ((String) x).substring(9) : (String) x));
    }
    String concept = optionalString(body, "concept");
    DeletionRequest request = DeletionRequest.newBuilder().setDeletionId(UUID.randomUUID().toString()).setUserId(user)
        .setTimestamp(Instant.now()).setScope(scope).setTargetIds(targets).setConcept(concept).build();
    DeletionRules.violation(request).ifPresent(UserDataHandlers::refuse);
    accepted(ctx, services.publisher().deletion(request), new JsonObject().put("id", request.getDeletionId())
        .put("object", "deletion").put("status", "accepted").put("scope", scope.name().toLowerCase(Locale.ROOT))
        .put("note", "the deletion receipt (deletion-receipts topic) says when the data is erased"));
  }

  /** The shared rule an event breaks, as a 400 naming the field as this API spells it (snake_case). */
  private static void refuse(Violation v) {
    throw ApiError.invalid(Violation.snakeCase(v.field()), v.message(Violation::snakeCase));
  }

  /** {@code GET /v1/me}: whom the key belongs to (the console uses it to find its user). */
  void me(RoutingContext ctx) {
    Principal p = ctx.get(Principal.CONTEXT_KEY);
    ctx.response().putHeader("content-type", "application/json").end(new JsonObject().put("object", "principal")
        .put("user", p.admin() ? null : p.userId()).put("admin", p.admin()).encode());
  }

  /** {@code GET /v1/users/:id/memory}: the caller's bank only. */
  void memory(RoutingContext ctx) {
    String user = ownUser(ctx, "memory bank");
    Optional<MemoryBank> bank = services.banks().bankOf(user);
    JsonArray entries = new JsonArray();
    JsonArray transitions = new JsonArray();
    bank.ifPresent(b -> {
      for (BankEntry e : b.getEntries()) {
        entries.add(new JsonObject().put("entry_id", e.getEntryId()).put("interaction_id", e.getInteractionId())
            .put("feedback_ids", new JsonArray(e.getFeedbackIds())).put("prompt", e.getPrompt())
            .put("model_response", e.getModelResponse()).put("preferred_response", e.getPreferredResponse())
            .put("weight", e.getWeight()).put("timestamp", e.getTimestamp().toString()));
      }
      for (TransitionCount t : b.getTransitions()) {
        transitions.add(new JsonObject().put("from_response", t.getFromResponse()).put("to_response", t.getToResponse())
            .put("weight", t.getWeight()));
      }
    });
    JsonObject body = new JsonObject().put("object", "memory_bank").put("user_id", user)
        .put("revision", bank.map(MemoryBank::getRevision).orElse(0L))
        .put("updated_at", bank.map(b -> b.getUpdatedAt().toString()).orElse(null))
        .put("entries", entries).put("transitions", transitions);
    ctx.response().putHeader("content-type", "application/json").end(body.encode());
  }

  /** {@code GET /v1/users/:id/receipts}: the caller's latest deletion receipts, newest first (ids only, no user text). */
  void receipts(RoutingContext ctx) {
    String user = ownUser(ctx, "deletion receipts");
    JsonArray data = new JsonArray();
    for (DeletionReceipt r : services.receipts().receiptsOf(user)) {
      JsonArray erased = new JsonArray();
      for (ErasedItem e : r.getErased()) {
        erased.add(new JsonObject().put("store", e.getStore()).put("key", e.getKey()).put("count", e.getCount()));
      }
      data.add(new JsonObject().put("deletion_id", r.getDeletionId())
          .put("scope", r.getScope().name().toLowerCase(Locale.ROOT))
          .put("status", r.getStatus().name().toLowerCase(Locale.ROOT)).put("erased", erased)
          .put("hidden_at", r.getHiddenAt().toString()).put("physically_erased_by", r.getPhysicallyErasedBy().toString())
          .put("unlearning_request_id", r.getUnlearningRequestId()).put("covering_adapter", r.getCoveringAdapter())
          .put("detail", r.getDetail()).put("timestamp", r.getTimestamp().toString()));
    }
    ctx.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("object", "list").put("user_id", user).put("data", data).encode());
  }

  /** The caller's user id, refusing a path that names another user. */
  private static String ownUser(RoutingContext ctx, String what) {
    String user = userOf(ctx);
    String asked = ctx.pathParam("id");
    if (!user.equals(asked)) {
      throw ApiError.forbidden("You can only read your own " + what + ": your API key belongs to '" + user
          + "', not '" + asked + "'.");
    }
    return user;
  }

  private void accepted(RoutingContext ctx, CompletableFuture<?> sent, JsonObject body) {
    var context = ctx.vertx().getOrCreateContext();
    sent.orTimeout(15, java.util.concurrent.TimeUnit.SECONDS).whenComplete((ok, e) -> context.runOnContext(v -> {
      if (e != null) {
        new ApiError(503, "server_error", "kafka_unavailable", null, "Kafka did not accept the event ("
            + e.getClass().getSimpleName() + "); nothing was recorded, retry later.").send(ctx);
      } else {
        ctx.response().setStatusCode(202).putHeader("content-type", "application/json").end(body.encode());
      }
    }));
  }

  private static String userOf(RoutingContext ctx) {
    Principal p = ctx.get(Principal.CONTEXT_KEY);
    if (p.admin()) {
      throw ApiError.forbidden("The admin key belongs to no user; user data endpoints need that user's API key.");
    }
    return p.userId();
  }

  private static void refuseOtherUser(JsonObject body, String user) {
    for (String field : List.of("user", "user_id")) {
      Object v = body.getValue(field);
      if (v != null && !user.equals(v)) {
        throw ApiError.forbidden("'" + field + "' names '" + v + "' but your API key belongs to '" + user
            + "'; you can only act on your own data. Omit the field.");
      }
    }
  }

  private static String requiredString(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (!(v instanceof String s) || s.isBlank()) {
      throw ApiError.invalid(field, "'" + field + "' is required and must be a non-empty string.");
    }
    return s;
  }

  private static String optionalString(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v != null && !(v instanceof String)) {
      throw ApiError.invalid(field, "'" + field + "' must be a string.");
    }
    return (String) v;
  }

  private static <E extends Enum<E>> E enumValue(Class<E> type, String value, String field) {
    try {
      return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      List<String> names = new ArrayList<>();
      for (E c : type.getEnumConstants()) {
        names.add(c.name().toLowerCase(Locale.ROOT));
      }
      throw ApiError.invalid(field, "'" + field + "' must be one of " + names + ", got '" + value + "'.");
    }
  }
}
