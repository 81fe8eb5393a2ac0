package io.marginal.schemas.validation;

import java.util.function.UnaryOperator;

/**
 * The first rule an event breaks: which field (by its Avro name) and what it needs. Each edge words it in its
 * own field names — the HTTP API in snake_case, the client and the streams app with the Avro names — so the
 * rule and its explanation exist once.
 *
 * @param subject what broke the rule, e.g. "scope interaction" or "feedback of kind rating"
 * @param field the Avro field name ({@code targetIds}, {@code preferredResponse}, …)
 * @param what  what the field must hold, e.g. "the interaction ids to forget"
 * @param given what was sent instead, or null when it was missing
 */
public record Violation(String subject, String field, String what, Object given) {

  /** The message with the Avro field names: {@code scope interaction needs 'targetIds': the interaction ids to forget.} */
  public String message() {
    return message(UnaryOperator.identity());
  }

  /** The message with the field named by {@code naming} (e.g. {@link #snakeCase}). */
  public String message(UnaryOperator<String> naming) {
    return subject + " needs '" + naming.apply(field) + "': " + what + (given == null ? "" : ", got " + given) + ".";
  }

  /** {@code preferredResponse} → {@code preferred_response}: the HTTP API's names for the same fields. */
  public static String snakeCase(String avroName) {
    return avroName.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }
}
