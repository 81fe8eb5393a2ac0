package io.marginal.inference.adapters;

/**
 * Who an adapter applies to: {@code shared:<name>} (everyone) or {@code user:<userId>} (that user
 * only). Same syntax as the trainer's scopes.
 */
public record AdapterScope(boolean shared, String name) {

  public static AdapterScope parse(String scope) {
    if (scope != null && scope.startsWith("shared:") && scope.length() > 7) {
      return new AdapterScope(true, scope.substring(7));
    }
    if (scope != null && scope.startsWith("user:") && scope.length() > 5) {
      return new AdapterScope(false, scope.substring(5));
    }
    throw new IllegalArgumentException("scope '" + scope + "' is not shared:<name> or user:<userId>");
  }

  @Override
  public String toString() {
    return (shared ? "shared:" : "user:") + name;
  }
}
