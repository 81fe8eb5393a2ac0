package io.marginal.schemas.serde;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.message.SchemaStore;

/**
 * Earlier versions of our schemas, kept as resources under {@code avro-history/}, so that records
 * written by older producers still decode (Avro resolves the old writer schema to the current
 * reader schema: new fields take their defaults). Whenever a schema changes, copy its previous
 * version here as {@code <name>-v<N>.avsc}, add it to {@link #RESOURCES} and update the pinned
 * fingerprint; {@code SchemaEvolutionTest} fails the build until all three are done and the new
 * schema can read every recorded version.
 */
public final class SchemaHistory {

  static final List<String> RESOURCES = List.of("feedback-v1.avsc", "dead-letter-v1.avsc", "unlearning-request-v1.avsc");

  private static final SchemaStore.Cache STORE = load();

  private SchemaHistory() {
  }

  public static SchemaStore store() {
    return STORE;
  }

  /** Reads one historical schema by resource name (for tests and tooling). */
  public static Schema schema(String resource) {
    try (InputStream in = SchemaHistory.class.getResourceAsStream("/avro-history/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("schema history resource avro-history/" + resource + " is missing from the classpath");
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read avro-history/" + resource, e);
    }
  }

  private static SchemaStore.Cache load() {
    SchemaStore.Cache cache = new SchemaStore.Cache();
    for (String resource : RESOURCES) {
      cache.addSchema(schema(resource));
    }
    return cache;
  }
}
