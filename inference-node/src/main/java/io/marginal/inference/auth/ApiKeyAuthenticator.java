package io.marginal.inference.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Optional;

/**
 * Maps bearer API keys to users. Keys are compared in constant time (through their SHA-256, so
 * the lookup leaks neither a key's prefix nor its length).
 */
public final class ApiKeyAuthenticator {

  private final Map<String, String> usersByKeyHash;
  private final String adminKeyHash;

  public ApiKeyAuthenticator(Map<String, String> usersByKey, String adminKey) {
    this.usersByKeyHash = usersByKey.entrySet().stream()
        .collect(java.util.stream.Collectors.toUnmodifiableMap(e -> hash(e.getKey()), Map.Entry::getValue));
    this.adminKeyHash = hash(adminKey);
  }

  /** The principal of an {@code Authorization} header value, if it carries a known bearer key. */
  public Optional<Principal> authenticate(String authorizationHeader) {
    if (authorizationHeader == null || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    String h = hash(authorizationHeader.substring(7).trim());
    if (MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), adminKeyHash.getBytes(StandardCharsets.UTF_8))) {
      return Optional.of(new Principal("admin", true));
    }
    String user = null;
    for (Map.Entry<String, String> e : usersByKeyHash.entrySet()) {
      if (MessageDigest.isEqual(h.getBytes(StandardCharsets.UTF_8), e.getKey().getBytes(StandardCharsets.UTF_8))) {
        user = e.getValue();
      }
    }
    return Optional.ofNullable(user).map(u -> new Principal(u, false));
  }

  private static String hash(String key) {
    try {
      return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
