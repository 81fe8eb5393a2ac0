package io.marginal.schemas.topics;

import java.util.Optional;

/**
 * Keys of the compacted adapters topic. Every published version has a key of its own
 * ({@code <adapterId>@v<version>}), so compaction keeps the whole verified history: when a node
 * rejects version 9 it keeps serving 8, and after a compaction and a restart it still finds 8 on
 * the topic. (All versions used to share the adapter id as key; compaction then left only the
 * rejected 9, and a restarted node served no adapter at all.) Failed requests are keyed apart
 * again, so they never replace anything.
 */
public final class AdapterKeys {

  private static final String VERSION_MARK = "@v";

  /** Which adapter version a key names. */
  public record VersionKey(String adapterId, int version) {}

  private AdapterKeys() {
  }

  public static String version(String adapterId, int version) {
    return adapterId + VERSION_MARK + version;
  }

  public static String failed(String adapterId, String requestId) {
    return adapterId + "/failed/" + requestId;
  }

  /** The adapter and version a versioned key names; empty for any other key (an unversioned key from before, a failure). */
  public static Optional<VersionKey> parseVersion(String key) {
    int at = key.lastIndexOf(VERSION_MARK);
    if (at <= 0 || at + VERSION_MARK.length() == key.length()) {
      return Optional.empty();
    }
    String digits = key.substring(at + VERSION_MARK.length());
    if (!digits.chars().allMatch(Character::isDigit) || digits.length() > 9) {
      return Optional.empty();
    }
    return Optional.of(new VersionKey(key.substring(0, at), Integer.parseInt(digits)));
  }
}
