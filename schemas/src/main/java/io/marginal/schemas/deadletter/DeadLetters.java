package io.marginal.schemas.deadletter;

import io.marginal.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Builds dead letters, the one place that does. A value too large to fit a dead letter beside its
 * envelope (a record just under the broker's 1 MiB limit would not) keeps its first
 * {@link #KEPT_PREFIX_BYTES} bytes, its size and its sha256: the letter always fits, so the reader
 * that writes it never has to stop for lack of room.
 */
public final class DeadLetters {

  /** Values up to this size are kept whole. */
  public static final int MAX_WHOLE_VALUE_BYTES = 256 * 1024;
  /** What a larger value keeps. */
  public static final int KEPT_PREFIX_BYTES = 64 * 1024;
  /** Keys are ids; a longer key is cut to this. */
  public static final int MAX_KEY_BYTES = 4 * 1024;

  private DeadLetters() {
  }

  public static DeadLetter letter(String sourceTopic, int partition, long offset, String application, String reason,
      String errorClass, byte[] key, byte[] value, Instant timestamp) {
    boolean truncate = value != null && value.length > MAX_WHOLE_VALUE_BYTES;
    byte[] kept = truncate ? Arrays.copyOf(value, KEPT_PREFIX_BYTES) : value;
    return DeadLetter.newBuilder()
        .setSourceTopic(sourceTopic)
        .setPartition(partition)
        .setOffset(offset)
        .setApplication(application)
        .setReason(reason == null ? "(no reason given)" : reason)
        .setErrorClass(errorClass)
        .setKey(key == null ? null : ByteBuffer.wrap(boundedKey(key)))
        .setValue(kept == null ? null : ByteBuffer.wrap(kept))
        .setTimestamp(timestamp)
        .setValueSize(value == null ? -1 : value.length)
        .setValueSha256(value == null ? null : sha256(value))
        .setValueTruncated(truncate)
        .build();
  }

  /** The key bytes a dead letter is written under (cut to {@link #MAX_KEY_BYTES}). */
  public static byte[] boundedKey(byte[] key) {
    return key == null || key.length <= MAX_KEY_BYTES ? key : Arrays.copyOf(key, MAX_KEY_BYTES);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
