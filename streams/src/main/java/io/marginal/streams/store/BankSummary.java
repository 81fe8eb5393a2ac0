package io.marginal.streams.store;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The fixed-size per-user record of the bank: how many entries it holds, its revision (changes
 * processed), the event time of the last change, and the arrival-order ring used for O(1) eviction
 * ({@code oldestSeq} ≤ live sequence numbers &lt; {@code nextSeq}). No user text.
 */
public record BankSummary(int count, long revision, long updatedAtMs, long oldestSeq, long nextSeq) {

  static final int BYTES = 4 + 8 * 4;

  public static final Serde<BankSummary> SERDE = Serdes.serdeFrom(new Serializer<>() {
    @Override
    public byte[] serialize(String topic, BankSummary s) {
      if (s == null) {
        return null;
      }
      return ByteBuffer.allocate(BYTES).putInt(s.count).putLong(s.revision).putLong(s.updatedAtMs)
          .putLong(s.oldestSeq).putLong(s.nextSeq).array();
    }
  }, new Deserializer<>() {
    @Override
    public BankSummary deserialize(String topic, byte[] bytes) {
      if (bytes == null) {
        return null;
      }
      if (bytes.length != BYTES) {
        throw new SerializationException("bank summary of " + bytes.length + " bytes on " + topic + "; expected " + BYTES
            + " (a store written by another version? reset the application's state)");
      }
      ByteBuffer b = ByteBuffer.wrap(bytes);
      return new BankSummary(b.getInt(), b.getLong(), b.getLong(), b.getLong(), b.getLong());
    }
  });

  static BankSummary empty() {
    return new BankSummary(0, 0, 0, 0, 0);
  }
}
