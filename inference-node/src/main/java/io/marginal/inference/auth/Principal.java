package io.marginal.inference.auth;

/** Who is calling: a user (from their API key) or the operator (admin key). */
public record Principal(String userId, boolean admin) {
  public static final String CONTEXT_KEY = "marginal.principal";
}
