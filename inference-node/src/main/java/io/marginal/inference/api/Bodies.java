package io.marginal.inference.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Reading request bodies at the edge, with OpenAI-shaped errors for anything that is not a JSON object. */
final class Bodies {
  private Bodies() {
  }

  static JsonObject json(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw ApiError.badJson("the body is empty");
    }
    Object value;
    try {
      value = io.vertx.core.json.Json.decodeValue(body);
    } catch (DecodeException e) {
      String detail = e.getMessage() == null ? "malformed JSON" : e.getMessage();
      throw ApiError.badJson(detail.length() > 200 ? detail.substring(0, 200) + "…" : detail);
    }
    if (!(value instanceof JsonObject o)) {
      throw ApiError.badJson("expected a JSON object, got " + (value == null ? "null" : value.getClass().getSimpleName()));
    }
    return o;
  }
}
