package io.marginal.schemas.serde;

import java.util.Map;

/**
 * Caps on the lengths a record may declare, so that a 24-byte record declaring 2,147,483,639 array
 * items is refused by Avro ({@code SystemLimitException}) instead of allocating gigabytes and
 * killing the reading thread with an {@link OutOfMemoryError}. Avro's own defaults are the VM's
 * array limit; ours are far above anything this system writes (a bank of 256 entries with
 * 4,096-float embeddings is ~1 M floats over several arrays; Kafka's default message is 1 MiB).
 *
 * <p>Avro reads the properties once, when {@code SystemLimitException} is first loaded, so they are
 * installed from {@link AvroSerde}'s static initialiser, before any decode. An operator's own
 * {@code -Dorg.apache.avro.limits.*} setting wins.
 */
final class DecodeLimits {

  static final String COLLECTION_ITEMS = "org.apache.avro.limits.collectionItems.maxLength";
  static final String BYTES = "org.apache.avro.limits.bytes.maxLength";
  static final String STRING = "org.apache.avro.limits.string.maxLength";

  /** Items in one array or map. */
  static final int MAX_COLLECTION_ITEMS = 1 << 20;
  /** Bytes of one {@code bytes} or {@code string} value. */
  static final int MAX_VALUE_BYTES = 8 << 20;

  private static final Map<String, Integer> DEFAULTS = Map.of(
      COLLECTION_ITEMS, MAX_COLLECTION_ITEMS, BYTES, MAX_VALUE_BYTES, STRING, MAX_VALUE_BYTES);

  private DecodeLimits() {
  }

  static synchronized void install() {
    DEFAULTS.forEach((property, limit) -> {
      if (System.getProperty(property) == null) {
        System.setProperty(property, Integer.toString(limit));
      }
    });
  }
}
