package io.marginal.trainer.job;

import java.util.regex.Pattern;

/**
 * An adapter's scope: {@code user:<userId>} (applies to one user; holds only that user's data, so
 * it can be forgotten exactly by dropping it) or {@code shared:<name>} (applies to everyone).
 */
public record AdapterScope(Kind kind, String name) {

  public enum Kind { USER, SHARED }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,128}");

  public static AdapterScope parse(String scope) {
    if (scope == null) {
      throw new IllegalArgumentException("scope is missing; expected user:<userId> or shared:<name>");
    }
    int colon = scope.indexOf(':');
    String prefix = colon < 0 ? "" : scope.substring(0, colon);
    String name = colon < 0 ? "" : scope.substring(colon + 1);
    Kind kind = switch (prefix) {
      case "user" -> Kind.USER;
      case "shared" -> Kind.SHARED;
      default -> throw new IllegalArgumentException("scope '" + scope + "' is not user:<userId> or shared:<name>");
    };
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("scope '" + scope + "': name must match " + NAME.pattern());
    }
    return new AdapterScope(kind, name);
  }

  /** The adapter id for this scope, safe as a file name: {@code user-alice}, {@code shared-films}. */
  public String adapterId() {
    return kind.name().toLowerCase() + "-" + name.replace('@', '_');
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase() + ":" + name;
  }
}
