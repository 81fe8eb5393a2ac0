package io.marginal.schemas.deadletter;

import io.marginal.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

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

  /** Header names: where the record came from, which service gave up on it, and why. */
  public static final String HEADER_PREFIX = "__marginal.errors.";
  public static final String HEADER_TOPIC = HEADER_PREFIX + "topic";
  public static final String HEADER_PARTITION = HEADER_PREFIX + "partition";
  public static final String HEADER_OFFSET = HEADER_PREFIX + "offset";
  public static final String HEADER_APPLICATION = HEADER_PREFIX + "application";
  public static final String HEADER_EXCEPTION = HEADER_PREFIX + "exception";
  public static final String HEADER_MESSAGE = HEADER_PREFIX + "message";
  /** Set by a replay on the record it writes back: the dead letter it came from ({@code topic-partition@offset}). */
  public static final String HEADER_REPLAY_OF = "__marginal.replay.of";

  private DeadLetters() {
  }

  /** The headers a dead letter is written with (UTF-8 strings; the exception header only when there was one). */
  public static Headers headers(DeadLetter letter) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(HEADER_TOPIC, utf8(letter.getSourceTopic()));
    headers.add(HEADER_PARTITION, utf8(Integer.toString(letter.getPartition())));
    headers.add(HEADER_OFFSET, utf8(Long.toString(letter.getOffset())));
    headers.add(HEADER_APPLICATION, utf8(letter.getApplication()));
    if (letter.getErrorClass() != null) {
      headers.add(HEADER_EXCEPTION, utf8(letter.getErrorClass()));
    }
    headers.add(HEADER_MESSAGE, utf8(letter.getReason()));
    return headers;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
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
