package io.marginal.schemas.serde;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for a generated Avro class using Avro single-object encoding: every message starts
 * with the marker {@code C3 01} and the 8-byte CRC-64-AVRO fingerprint of its writer schema, so
 * a reader resolves old writer schemas (registered in {@link SchemaHistory}) to its own.
 * A null value (a tombstone) stays null in both directions.
 *
 * <p>Decoding never lets an {@link Error} out for bad input: declared lengths are capped
 * ({@link DecodeLimits}), and an allocation that still fails is reported like any other unreadable
 * record, as a {@link SerializationException} the caller dead-letters.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

  static {
    TrustedPackages.allowMarginalClasses();
    DecodeLimits.install();
  }

  private final Class<T> type;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;

  public AvroSerde(Class<T> type) {
    this.type = type;
    SpecificData model = SpecificData.getForClass(type);
    Schema schema = model.getSchema(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema, SchemaHistory.store());
  }

  public Class<T> type() {
    return type;
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    try {
      ByteBuffer buffer = encoder.encode(data);
      return Arrays.copyOfRange(buffer.array(), buffer.arrayOffset() + buffer.position(),
          buffer.arrayOffset() + buffer.limit());
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("cannot encode " + type.getSimpleName() + " for topic " + topic + ": " + e.getMessage(), e);
    }
  }

  @Override
  public T deserialize(String topic, byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return decoder.decode(bytes);
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("not a readable " + type.getSimpleName() + " record on topic " + topic
          + " (" + bytes.length + " bytes): " + describe(e), e);
    } catch (OutOfMemoryError | StackOverflowError e) {
      // Only this decode's allocation failed (a declared length under the caps but still too big
      // for this heap, or absurd nesting); nothing else holds the memory it asked for.
      throw new SerializationException("not a readable " + type.getSimpleName() + " record on topic " + topic
          + " (" + bytes.length + " bytes): it declares more data than it holds (" + describe(e) + ")", e);
    }
  }

  /** The exception and its root cause (Avro wraps the telling one in "Decoding datum failed"). */
  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = name(e);
    return root == e ? text : text + "; caused by " + name(root);
  }

  private static String name(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void configure(java.util.Map<String, ?> configs, boolean isKey) {
  }

  @Override
  public void close() {
  }
}
