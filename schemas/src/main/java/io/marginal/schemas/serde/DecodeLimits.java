package io.marginal.schemas.serde;

import java.lang.reflect.Method;
import java.util.Map;
import org.apache.avro.SystemLimitException;

/**
 * Caps on the lengths a record may declare, so that a 24-byte record declaring 2,147,483,639 array
 * items is refused by Avro ({@code SystemLimitException}) instead of allocating gigabytes and
 * killing the reading thread with an {@link OutOfMemoryError}. Avro's own defaults are the VM's
 * array limit; ours are far above anything this system writes (a bank of 256 entries with
 * 4,096-float embeddings is ~1 M floats over several arrays; Kafka's default message is 1 MiB).
 *
 * <p>Avro reads the properties once, when {@code SystemLimitException} is first loaded — and that
 * can happen before any of our decoding (building a record with defaults decodes the defaults), so
 * after setting them this asks Avro to read them again ({@code SystemLimitException.resetLimits},
 * package-private, called reflectively). Installed from {@link AvroSerde}'s static initialiser, before
 * our first decode. An operator's own {@code -Dorg.apache.avro.limits.*} setting wins.
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
    try {
      Method reset = SystemLimitException.class.getDeclaredMethod("resetLimits");
      reset.setAccessible(true);
      reset.invoke(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot apply Avro decode limits (" + e + "); this Avro version is not supported:"
          + " it would let a tiny record declare 2^31 items", e);
    }
  }
}
