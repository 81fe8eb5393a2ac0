package io.marginal.streams.store;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.BankEntryChange;
import io.marginal.personalization.bank.BankChanges;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A bank entry as stored: its arrival sequence number (its slot in the eviction ring) and the
 * encoded {@link BankEntryChange} that published it. The store keeps the very bytes that went to
 * memory-banks, so an upsert encodes the entry once for both (DESIGN.md §6: encoding was the cost);
 * the entry is decoded only when a deletion or a query reads it.
 */
public record StoredEntry(long seq, byte[] encodedChange) {

  public BankEntryChange change() {
    return BankChanges.SERDE.deserialize("memory-bank-entries", encodedChange);
  }

  public BankEntry entry() {
    return change().getEntry();
  }

  public static final Serde<StoredEntry> SERDE = Serdes.serdeFrom(new Serializer<>() {
    @Override
    public byte[] serialize(String topic, StoredEntry e) {
      if (e == null) {
        return null;
      }
      return ByteBuffer.allocate(8 + e.encodedChange.length).putLong(e.seq).put(e.encodedChange).array();
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
      byte[] change = new byte[bytes.length - 8];
      System.arraycopy(bytes, 8, change, 0, change.length);
      return new StoredEntry(ByteBuffer.wrap(bytes, 0, 8).getLong(), change);
    }
  });
}
