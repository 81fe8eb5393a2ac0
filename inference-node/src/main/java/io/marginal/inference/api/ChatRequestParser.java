package io.marginal.inference.api;

import io.marginal.inference.adapters.AdapterRegistry;
import io.marginal.inference.adapters.AdapterSelection;
import io.marginal.inference.auth.Principal;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.tokenizer.ChatMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validates an OpenAI chat completion request body at the edge: every field the node uses is
 * checked for type and range, and every refusal names the field and the accepted values.
 */
final class ChatRequestParser {

  /** A request that passed validation. */
  record Parsed(String model, AdapterSelection selection, List<ChatMessage> messages, GenerationRequest generation,
      boolean stream, boolean includeUsage) {}

  private static final Set<String> ROLES = Set.of("system", "user", "assistant", "developer");

  private final InferenceConfig config;
  private final AdapterRegistry adapters;
  private final java.util.function.UnaryOperator<String> unrepresentable;

  /** Temperature and top_p for a request that names none (the checkpoint's generation_config). */
  private final SamplingDefaults sampling;

  ChatRequestParser(InferenceConfig config, AdapterRegistry adapters, java.util.function.UnaryOperator<String> unrepresentable,
                    SamplingDefaults sampling) {
    this.config = config;
    this.sampling = sampling;
    this.adapters = adapters;
    this.unrepresentable = unrepresentable;
  }

  Parsed parse(JsonObject body, Principal principal) {
    String user = optionalString(body, "user");
    if (user != null && !user.equals(principal.userId())) {
      throw ApiError.forbidden("The 'user' field names '" + user + "' but your API key belongs to '" + principal.userId()
          + "'. Omit 'user' or send your own id; a key can only act for its own user.");
    }
    String model = optionalString(body, "model");
    if (model == null || model.isBlank()) {
      throw ApiError.invalid("model", "'model' is required; use '" + config.modelId() + "' (see GET /v1/models).");
    }
    AdapterSelection selection = resolveModel(model, principal.userId());
    List<ChatMessage> messages = messages(body);
    int chars = messages.stream().mapToInt(m -> m.content().length()).sum();
    if (chars > config.maxPromptChars()) {
      throw new ApiError(400, "invalid_request_error", "context_length_exceeded", "messages", "The messages total "
          + chars + " characters; this node accepts at most " + config.maxPromptChars()
          + " (MARGINAL_MAX_PROMPT_CHARS). Shorten the conversation.");
    }
    refuseUnreadableText(messages);
    double temperature = number(body, "temperature", sampling.temperature(), 0, 2);
    double topP = number(body, "top_p", sampling.topP(), 0, 1);
    if (topP == 0) {
      throw ApiError.invalid("top_p", "'top_p' must be in (0, 1], got 0.");
    }
    Integer maxTokens = integer(body, "max_completion_tokens");
    if (maxTokens == null) {
      maxTokens = integer(body, "max_tokens");
    }
    if (maxTokens == null) {
      maxTokens = config.defaultMaxTokens();
    }
    if (maxTokens < 1 || maxTokens > config.maxCompletionTokens()) {
      throw ApiError.invalid("max_tokens", "'max_tokens' must be between 1 and " + config.maxCompletionTokens()
          + " on this node (MARGINAL_MAX_COMPLETION_TOKENS), got " + maxTokens + ".");
    }
    Integer n = integer(body, "n");
    if (n != null && n != 1) {
      throw ApiError.invalid("n", "Only n=1 is supported; send one request per completion.");
    }
    Long seedValue = longInteger(body, "seed");
    long seed = seedValue == null ? 0 : seedValue;
    List<String> stop = stops(body);
    boolean stream = bool(body, "stream");
    boolean includeUsage = false;
    Object options = body.getValue("stream_options");
    if (options instanceof JsonObject o) {
      includeUsage = Boolean.TRUE.equals(o.getValue("include_usage"));
    }
    GenerationRequest generation = new GenerationRequest(maxTokens, temperature, topP, seed, stop, null);
    return new Parsed(model, selection, messages, generation, stream, includeUsage);
  }

  /**
   * A message made mostly of characters that no token of the model's vocabulary contains (a
   * word-level vocabulary and a prompt in another script) is refused by name instead of being
   * answered as if it were empty.
   */
  private void refuseUnreadableText(List<ChatMessage> messages) {
    for (int i = 0; i < messages.size(); i++) {
      String text = messages.get(i).content();
      long visible = text.codePoints().filter(c -> !Character.isWhitespace(c)).count();
      String unreadable = unrepresentable.apply(text);
      long count = unreadable.codePoints().count();
      if (visible > 0 && count * 2 > visible) {
        String examples = unreadable.codePoints().distinct().limit(5)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        throw new ApiError(400, "invalid_request_error", "unsupported_text", "messages[" + i + "].content", "messages[" + i
            + "].content: " + count + " of its " + visible + " characters (such as " + examples + ") appear in no token of"
            + " this model's vocabulary, so the model would read them only as its unknown token and not see the message."
            + " Write it in the script the model was trained on.");
      }
    }
  }

  /** {@code <base>}, {@code <base>:none} or {@code <base>:<adapterId>}; anything else is 404 model_not_found. */
  AdapterSelection resolveModel(String model, String userId) {
    String base = config.modelId();
    if (model.equals(base)) {
      return AdapterSelection.ALL;
    }
    if (model.startsWith(base + ":")) {
      String suffix = model.substring(base.length() + 1);
      if (suffix.equals("none")) {
        return AdapterSelection.NONE;
      }
      if (adapters.visibleTo(suffix, userId)) {
        return AdapterSelection.only(suffix);
      }
    }
    throw ApiError.modelNotFound(model, "'" + base + "', '" + base + ":none' and '" + base + ":<adapterId>' for the adapters listed by GET /v1/models");
  }

  private List<ChatMessage> messages(JsonObject body) {
    Object raw = body.getValue("messages");
    if (!(raw instanceof JsonArray array) || array.isEmpty()) {
      throw ApiError.invalid("messages", "'messages' must be a non-empty array of {role, content} objects.");
    }
    List<ChatMessage> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof JsonObject m)) {
        throw ApiError.invalid("messages[" + i + "]", "messages[" + i + "] must be an object with 'role' and 'content'.");
      }
      Object role = m.getValue("role");
      if (!(role instanceof String r) || !ROLES.contains(r)) {
        throw ApiError.invalid("messages[" + i + "].role", "messages[" + i + "].role must be one of " + ROLES + ", got "
            + (role instanceof String ? "'" + role + "'" : describe(role)) + ".");
      }
      out.add(new ChatMessage(r.equals("developer") ? "system" : r, content(m.getValue("content"), i)));
    }
    return out;
  }

  private static String content(Object content, int i) {
    if (content instanceof String s) {
      return s;
    }
    if (content instanceof JsonArray parts) {
      StringBuilder sb = new StringBuilder();
      for (Object p : parts) {
        if (p instanceof JsonObject part && "text".equals(part.getValue("type")) && part.getValue("text") instanceof String t) {
          sb.append(t);
        } else {
          throw ApiError.invalid("messages[" + i + "].content", "messages[" + i + "].content: only text parts are supported.");
        }
      }
      return sb.toString();
    }
    throw ApiError.invalid("messages[" + i + "].content", "messages[" + i + "].content must be a string or an array of text parts, got "
        + describe(content) + ".");
  }

  private static List<String> stops(JsonObject body) {
    Object raw = body.getValue("stop");
    if (raw == null) {
      return List.of();
    }
    if (raw instanceof String s) {
      return List.of(s);
    }
    if (raw instanceof JsonArray a && a.size() <= 4 && a.stream().allMatch(x -> x instanceof String)) {
      return a.stream().map(String.class::cast).toList();
    }
    throw ApiError.invalid("stop", "'stop' must be a string or an array of at most 4 strings.");
  }

  private static String optionalString(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (v instanceof String s) {
      return s;
    }
    throw ApiError.invalid(field, "'" + field + "' must be a string, got " + describe(v) + ".");
  }

  private static double number(JsonObject body, String field, double dflt, double min, double max) {
    Object v = body.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number num) || num.doubleValue() < min || num.doubleValue() > max || Double.isNaN(num.doubleValue())) {
      throw ApiError.invalid(field, "'" + field + "' must be a number between " + min + " and " + max + ", got " + describe(v) + ".");
    }
    return num.doubleValue();
  }

  private static Integer integer(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue()) && Math.abs(num.doubleValue()) < Integer.MAX_VALUE) {
      return num.intValue();
    }
    throw ApiError.invalid(field, "'" + field + "' must be an integer, got " + describe(v) + ".");
  }

  /** A 64-bit integer (OpenAI's {@code seed} is one); JSON numbers beyond it are refused by name. */
  private static Long longInteger(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof java.math.BigInteger big && big.bitLength() < 64) {
      return big.longValue();
    }
    if (v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue()) && Math.abs(num.doubleValue()) < 0x1p53) {
      return num.longValue();
    }
    throw ApiError.invalid(field, "'" + field + "' must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE
        + ", got " + describe(v) + ".");
  }

  /** A JSON value as the client sent it, with its type when that is the mistake ("16" is a string, not 16). */
  static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String s) {
      String shown = s.length() > 40 ? s.substring(0, 40) + "…" : s;
      return "the string \"" + shown + "\" (send it without quotes)";
    }
    if (v instanceof JsonObject) {
      return "an object";
    }
    if (v instanceof JsonArray) {
      return "an array";
    }
    if (v instanceof Boolean b) {
      return "the boolean " + b;
    }
    return v.toString();
  }

  private static boolean bool(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw ApiError.invalid(field, "'" + field + "' must be true or false, got " + describe(v) + ".");
  }
}
