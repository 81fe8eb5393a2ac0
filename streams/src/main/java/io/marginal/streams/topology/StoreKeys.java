package io.marginal.streams.topology;

/**
 * Composite keys of the per-user stores. All of a user's keys share the prefix {@code user + SEP}, so
 * a deletion finds everything of the user with one prefix scan; the per-event path uses exact keys
 * only. Ids containing SEP are rejected at the edge.
 */
final class StoreKeys {

  static final char SEP = '\u0000';

  private StoreKeys() {
  }

  static String userPrefix(String user) {
    return user + SEP;
  }

  /** Key of a stored interaction, and of the feedback waiting for it. */
  static String interaction(String user, String interactionId) {
    return user + SEP + interactionId;
  }

  /** Key of the interaction-expiry index: zero-padded timestamp first, so the index iterates oldest first. */
  static String expiry(long timestampMs, String interactionKey) {
    String digits = Long.toString(Math.max(0, timestampMs));
    return "0".repeat(19 - digits.length()) + digits + SEP + interactionKey;
  }

  static long expiryTimestamp(String expiryKey) {
    return Long.parseLong(expiryKey.substring(0, 19));
  }

  static boolean usable(String id) {
    return id != null && !id.isEmpty() && id.indexOf(SEP) < 0;
  }
}
