package io.marginal.streams.store;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.serde.AvroSerde;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** A bank entry as stored: its arrival sequence number (its slot in the eviction ring) and the entry. */
public record StoredEntry(long seq, BankEntry entry) {

  static final AvroSerde<BankEntry> ENTRY = new AvroSerde<>(BankEntry.class);

  public static final Serde<StoredEntry> SERDE = Serdes.serdeFrom(new Serializer<>() {
    @Override
    public byte[] serialize(String topic, StoredEntry e) {
      if (e == null) {
        return null;
      }
      byte[] entry = ENTRY.serialize(topic, e.entry);
      return ByteBuffer.allocate(8 + entry.length).putLong(e.seq).put(entry).array();
    }
  }, new Deserializer<>() {
    @Override
    public StoredEntry deserialize(String topic, byte[] bytes) {
      if (bytes == null) {
        return null;
      }
      if (bytes.length < 8) {
        throw new SerializationException("stored bank entry of " + bytes.length + " bytes on " + topic + " is truncated");
      }
      long seq = ByteBuffer.wrap(bytes, 0, 8).getLong();
      byte[] entry = new byte[bytes.length - 8];
      System.arraycopy(bytes, 8, entry, 0, entry.length);
      return new StoredEntry(seq, ENTRY.deserialize(topic, entry));
    }
  });
}
