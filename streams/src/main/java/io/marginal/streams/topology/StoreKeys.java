package io.marginal.streams.topology;

/**
 * Composite keys of the per-user stores. All of a user's keys share the prefix {@code user + SEP}, so
 * a prefix scan finds everything a deletion must remove. Ids containing SEP are rejected at the edge.
 */
final class StoreKeys {

  static final char SEP = '\u0000';

  private StoreKeys() {
  }

  static String userPrefix(String user) {
    return user + SEP;
  }

  static String interaction(String user, String interactionId) {
    return user + SEP + interactionId;
  }

  static String interactionPrefix(String user, String interactionId) {
    return user + SEP + interactionId + SEP;
  }

  static String pending(String user, String interactionId, String feedbackId) {
    return user + SEP + interactionId + SEP + feedbackId;
  }

  static boolean usable(String id) {
    return id != null && !id.isEmpty() && id.indexOf(SEP) < 0;
  }
}
