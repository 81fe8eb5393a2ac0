package io.marginal.inference.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * An error in OpenAI's shape, {@code {"error":{"message","type","param","code"}}}, with its HTTP
 * status; thrown by validation at the edge and written by {@link #send}.
 */
public final class ApiError extends RuntimeException {

  private final int status;
  private final String type;
  private final String param;
  private final String code;

  public ApiError(int status, String type, String code, String param, String message) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  public static ApiError invalid(String param, String message) {
    return new ApiError(400, "invalid_request_error", "invalid_value", param, message);
  }

  public static ApiError badJson(String detail) {
    return new ApiError(400, "invalid_request_error", "invalid_json", null,
        "We could not parse the JSON body of your request (" + detail + "). Send a JSON object with Content-Type: application/json.");
  }

  public static ApiError unauthorized(String message) {
    return new ApiError(401, "invalid_request_error", "invalid_api_key", null, message);
  }

  public static ApiError forbidden(String message) {
    return new ApiError(403, "permission_error", "forbidden", null, message);
  }

  public static ApiError modelNotFound(String model, String served) {
    return new ApiError(404, "invalid_request_error", "model_not_found", "model",
        "The model '" + model + "' does not exist or you do not have access to it. This node serves: " + served + ".");
  }

  public int status() {
    return status;
  }

  public JsonObject body() {
    return new JsonObject().put("error", new JsonObject()
        .put("message", getMessage()).put("type", type).put("param", param).put("code", code));
  }

  /** Writes this error unless a response has already started. */
  public void send(RoutingContext ctx) {
    if (ctx.response().headWritten() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body().encode());
  }
}
