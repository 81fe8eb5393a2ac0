package io.marginal.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.schemas.serde.SchemaHistory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;

/**
 * The build-time schema registry: every {@code .avsc} must read every recorded earlier version of itself
 * (backward compatibility, as a Schema Registry in BACKWARD mode checks it), every recorded version must be
 * registered for decoding, and a change to a schema's binary form must come with its previous version recorded.
 */
class SchemaEvolutionTest {

  private static final Path AVRO = Path.of("src/main/avro");
  private static final Path HISTORY = Path.of("src/main/resources/avro-history");
  private static final String PINNED = "/avro-fingerprints.properties";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void everySchemaReadsEveryRecordedVersionOfItself() throws IOException {
    Map<String, Schema> current = currentSchemasByFullName();
    List<String> problems = new ArrayList<>();
    for (Path old : historyFiles()) {
      Schema writer = SchemaHistory.schema(old.getFileName().toString());
      Schema reader = current.get(writer.getFullName());
      if (reader == null) {
        problems.add(old.getFileName() + ": no current schema named " + writer.getFullName());
        continue;
      }
      problems.addAll(incompatibilities(reader, writer).stream().map(p -> old.getFileName() + ": " + p).toList());
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void everyRecordedVersionIsRegisteredForDecoding() throws IOException {
    List<String> missing = new ArrayList<>();
    for (Path old : historyFiles()) {
      Schema schema = SchemaHistory.schema(old.getFileName().toString());
      if (SchemaHistory.store().findByFingerprint(SchemaNormalization.parsingFingerprint64(schema)) == null) {
        missing.add(old.getFileName() + " (add it to SchemaHistory.RESOURCES, or records written with it do not decode)");
      }
    }
    assertEquals(List.of(), missing);
  }

  @Test
  void aChangedSchemaComesWithItsPreviousVersionRecorded() throws IOException {
    Properties pinned = new Properties();
    try (InputStream in = getClass().getResourceAsStream(PINNED)) {
      pinned.load(in);
    }
    Map<String, String> actual = new TreeMap<>();
    for (Map.Entry<String, Schema> e : currentSchemasByFile().entrySet()) {
      actual.put(e.getKey(), Long.toHexString(SchemaNormalization.parsingFingerprint64(e.getValue())));
    }
    List<String> changed = new ArrayList<>();
    for (Map.Entry<String, String> e : actual.entrySet()) {
      String was = pinned.getProperty(e.getKey());
      if (!e.getValue().equals(was)) {
        changed.add(e.getKey() + " is " + e.getValue() + ", pinned " + was);
      }
    }
    assertEquals(List.of(), changed, "a schema's binary form changed: copy its previous version to " + HISTORY
        + "/<name>-v<N>.avsc, register it in SchemaHistory.RESOURCES, then pin the new fingerprint in src/test/resources"
        + PINNED);
    assertEquals(actual.keySet(), new java.util.TreeSet<>(pinned.stringPropertyNames()),
        "pinned fingerprints name exactly the current schema files");
  }

  @Test
  void theCheckCatchesANewFieldWithoutADefaultAndARemovedEnumSymbol() {
    Schema v1 = new Schema.Parser().parse("""
        {"type":"record","name":"R","fields":[{"name":"a","type":"string"},
          {"name":"k","type":{"type":"enum","name":"K","symbols":["X","Y"]}}]}""");
    Schema added = new Schema.Parser().parse("""
        {"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"},
          {"name":"k","type":{"type":"enum","name":"K","symbols":["X","Y"]}}]}""");
    Schema defaulted = new Schema.Parser().parse("""
        {"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"int","default":0},
          {"name":"k","type":{"type":"enum","name":"K","symbols":["X","Y"]}}]}""");
    Schema narrowed = new Schema.Parser().parse("""
        {"type":"record","name":"R","fields":[{"name":"a","type":"string"},
          {"name":"k","type":{"type":"enum","name":"K","symbols":["X"]}}]}""");

    assertTrue(incompatibilities(defaulted, v1).isEmpty(), "a new field with a default reads old records");
    List<String> noDefault = incompatibilities(added, v1);
    assertFalse(noDefault.isEmpty());
    assertTrue(noDefault.get(0).contains("b"), noDefault.toString());
    assertFalse(incompatibilities(narrowed, v1).isEmpty(), "old records may hold the removed symbol");
  }

  /** Why {@code reader} cannot read data written with {@code writer}; empty when it can. */
  static List<String> incompatibilities(Schema reader, Schema writer) {
    SchemaCompatibility.SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    return result.getResult().getIncompatibilities().stream()
        .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
        .toList();
  }

  private static List<Path> historyFiles() throws IOException {
    try (Stream<Path> files = Files.list(HISTORY)) {
      return files.filter(p -> p.toString().endsWith(".avsc")).sorted().toList();
    }
  }

  private static Map<String, Schema> currentSchemasByFullName() throws IOException {
    Map<String, Schema> out = new TreeMap<>();
    for (Schema s : currentSchemasByFile().values()) {
      out.put(s.getFullName(), s);
    }
    return out;
  }

  /** The schemas the build generates classes from, taken from those classes (an .avsc may use another's types). */
  private static Map<String, Schema> currentSchemasByFile() throws IOException {
    Map<String, Schema> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(AVRO)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".avsc")).sorted().toList()) {
        JsonNode json = JSON.readTree(file.toFile());
        String name = json.path("namespace").asText() + "." + json.path("name").asText();
        try {
          out.put(file.getFileName().toString(), (Schema) Class.forName(name).getField("SCHEMA$").get(null));
        } catch (ReflectiveOperationException e) {
          fail(file + " declares " + name + " but no generated class of that name has SCHEMA$: " + e);
        }
      }
    }
    return out;
  }
}
