package io.marginal.schemas.fault;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The poison-record corpus: byte strings that a topic reader must dead-letter and survive. Built
 * from a valid encoded record of the topic's type: garbage, empty, truncated, a record of another
 * type, an unknown schema fingerprint, a record just under 1 MiB, and one variant per byte position
 * where that byte is replaced by a declared length of 2,147,483,639 (the record that used to kill
 * every consumer with an OutOfMemoryError: whichever position holds an array, map, string or bytes
 * length is hit by one of them).
 */
public final class PoisonRecords {

  /** One malformed value, named by how it was made. */
  public record Poison(String kind, byte[] bytes) {
    @Override
    public String toString() {
      return kind + " (" + bytes.length + " bytes)";
    }
  }

  /** Avro single-object header: marker C3 01 plus the 8-byte schema fingerprint. */
  static final int HEADER_BYTES = 10;
  /** The largest array Avro's default limits allow; what the crafted records declare. */
  static final long HUGE_LENGTH = Integer.MAX_VALUE - 8;
  /** Just under the default 1 MiB record limit of a Kafka broker and producer. */
  public static final int NEAR_MAX_RECORD_BYTES = (1 << 20) - 2048;

  private PoisonRecords() {
  }

  /**
   * The corpus for one topic: {@code valid} is a well-formed record of the topic's type,
   * {@code otherType} a well-formed record of a different type.
   */
  public static List<Poison> corpus(byte[] valid, byte[] otherType, long seed) {
    Random random = new Random(seed);
    List<Poison> out = new ArrayList<>();
    byte[] garbage = new byte[64];
    random.nextBytes(garbage);
    out.add(new Poison("garbage", garbage));
    out.add(new Poison("empty", new byte[0]));
    out.add(new Poison("header-only", Arrays.copyOf(valid, HEADER_BYTES)));
    out.add(new Poison("truncated", Arrays.copyOf(valid, Math.max(HEADER_BYTES + 1, valid.length / 2))));
    out.add(new Poison("wrong-schema", otherType));
    byte[] unknownFingerprint = valid.clone();
    unknownFingerprint[5] ^= 0x5A;
    out.add(new Poison("unknown-fingerprint", unknownFingerprint));
    out.add(new Poison("near-1MiB", nearMaxRecord(valid, random)));
    out.addAll(hugeDeclaredLengths(valid));
    return out;
  }

  /** One variant per body byte: that byte replaced by the zig-zag varint of {@link #HUGE_LENGTH}. */
  public static List<Poison> hugeDeclaredLengths(byte[] valid) {
    byte[] huge = zigZagVarint(HUGE_LENGTH);
    List<Poison> out = new ArrayList<>();
    for (int at = HEADER_BYTES; at < valid.length; at++) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(valid.length + huge.length);
      bytes.write(valid, 0, at);
      bytes.write(huge, 0, huge.length);
      bytes.write(valid, at + 1, valid.length - at - 1);
      out.add(new Poison("huge-length@" + at, bytes.toByteArray()));
    }
    return out;
  }

  /** The valid header followed by random bytes, just under 1 MiB in all. */
  static byte[] nearMaxRecord(byte[] valid, Random random) {
    byte[] out = new byte[NEAR_MAX_RECORD_BYTES];
    random.nextBytes(out);
    System.arraycopy(valid, 0, out, 0, HEADER_BYTES);
    return out;
  }

  static byte[] zigZagVarint(long value) {
    long n = (value << 1) ^ (value >> 63);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((n & ~0x7FL) != 0) {
      out.write((int) ((n & 0x7F) | 0x80));
      n >>>= 7;
    }
    out.write((int) n);
    return out.toByteArray();
  }
}
