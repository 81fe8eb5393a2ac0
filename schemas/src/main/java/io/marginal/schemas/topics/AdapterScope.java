package io.marginal.schemas.topics;

import java.util.regex.Pattern;

/**
 * An adapter's scope, the {@code scope} of unlearning requests and published adapters: {@code user:<userId>}
 * (applies to one user; holds only that user's data, so it can be forgotten exactly by dropping it) or
 * {@code shared:<name>} (applies to everyone). The one parser, for the trainer (which refuses a bad scope)
 * and inference nodes (which reject an adapter event with one), so both accept exactly the same scopes.
 */
public record AdapterScope(Kind kind, String name) {

  public enum Kind { USER, SHARED }

  public static final String USER_PREFIX = "user:";
  public static final String SHARED_PREFIX = "shared:";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,128}");

  public static AdapterScope parse(String scope) {
    if (scope == null) {
      throw new IllegalArgumentException("scope is missing; expected user:<userId> or shared:<name>");
    }
    int colon = scope.indexOf(':');
    String prefix = colon < 0 ? "" : scope.substring(0, colon + 1);
    String name = colon < 0 ? "" : scope.substring(colon + 1);
    Kind kind = switch (prefix) {
      case USER_PREFIX -> Kind.USER;
      case SHARED_PREFIX -> Kind.SHARED;
      default -> throw new IllegalArgumentException("scope '" + scope + "' is not user:<userId> or shared:<name>");
    };
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("scope '" + scope + "': name must match " + NAME.pattern());
    }
    return new AdapterScope(kind, name);
  }

  /** The scope string of a user's own adapter (not validated here: the trainer refuses an unusable one). */
  public static String ofUser(String userId) {
    return USER_PREFIX + userId;
  }

  /** Whether the adapter applies to everyone. */
  public boolean shared() {
    return kind == Kind.SHARED;
  }

  /** The adapter id for this scope, safe as a file name: {@code user-alice}, {@code shared-films}. */
  public String adapterId() {
    return kind.name().toLowerCase() + "-" + name.replace('@', '_');
  }

  @Override
  public String toString() {
    return (kind == Kind.USER ? USER_PREFIX : SHARED_PREFIX) + name;
  }
}
