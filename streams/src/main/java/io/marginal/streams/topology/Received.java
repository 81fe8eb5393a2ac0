package io.marginal.streams.topology;

import io.marginal.schemas.serde.AvroSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * An input record decoded for the processor, with the bytes it arrived as. The processor stores those
 * bytes as they are instead of encoding the decoded value again: re-encoding values was the main cost of
 * the stream thread (DESIGN.md §6). A record that cannot be decoded fails in this deserializer, exactly as
 * with the plain serde, so it goes to the dead-letter handler.
 */
record Received<T>(T value, byte[] raw) {

  static <T extends SpecificRecord> Serde<Received<T>> serde(AvroSerde<T> serde) {
    Serializer<Received<T>> serializer = (topic, r) -> r == null ? null : r.raw();
    Deserializer<Received<T>> deserializer = (topic, bytes) -> bytes == null ? null : new Received<>(serde.deserialize(topic, bytes), bytes);
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
