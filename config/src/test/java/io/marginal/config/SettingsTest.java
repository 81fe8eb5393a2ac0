package io.marginal.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

  @Test
  void absentOrBlankKeysTakeTheDefault() {
    Settings s = Settings.of(Map.of("BLANK", "  "));
    assertEquals("d", s.getString("MISSING", "d"));
    assertEquals("d", s.getString("BLANK", "d"));
    assertEquals(7, s.getInt("BLANK", 7));
    assertEquals(Duration.ofSeconds(3), s.getDuration("MISSING", Duration.ofSeconds(3)));
    assertFalse(s.isSet("BLANK"));
  }

  @Test
  void typedValuesAreParsedAndTrimmed() {
    Settings s = Settings.of(Map.ofEntries(Map.entry("I", " 42 "), Map.entry("L", "9000000000"), Map.entry("D", "0.25"),
        Map.entry("B", "YES"), Map.entry("F", "false"), Map.entry("BYTES", "256m"), Map.entry("PLAIN", "1024"),
        Map.entry("K", "4K"), Map.entry("G", "2g"), Map.entry("DUR", "PT5M"), Map.entry("P", "var/x")));
    assertEquals(42, s.getInt("I", 0));
    assertEquals(9_000_000_000L, s.getLong("L", 0));
    assertEquals(0.25, s.getDouble("D", 0));
    assertTrue(s.getBoolean("B", false));
    assertFalse(s.getBoolean("F", true));
    assertEquals(256L << 20, s.getBytes("BYTES", 0));
    assertEquals(1024, s.getBytes("PLAIN", 0));
    assertEquals(4096, s.getBytes("K", 0));
    assertEquals(2L << 30, s.getBytes("G", 0));
    assertEquals(Duration.ofMinutes(5), s.getDuration("DUR", Duration.ZERO));
    assertEquals(Path.of("var/x"), s.getPath("P", null));
  }

  @Test
  void badValuesNameTheKeyTheValueAndWhatIsExpected() {
    Settings s = Settings.of(Map.of("MARGINAL_QUEUE_CAPACITY", "lots", "MARGINAL_T", "60", "MARGINAL_B", "maybe",
        "MARGINAL_CACHE", "256q", "MARGINAL_X", "1.5.2", "MARGINAL_BIG", "9000000000g"));
    assertEquals("MARGINAL_QUEUE_CAPACITY must be an integer, got 'lots'",
        assertThrows(IllegalArgumentException.class, () -> s.getInt("MARGINAL_QUEUE_CAPACITY", 1)).getMessage());
    assertEquals("MARGINAL_T must be an ISO-8601 duration such as PT30S, got '60'",
        assertThrows(IllegalArgumentException.class, () -> s.getDuration("MARGINAL_T", Duration.ZERO)).getMessage());
    assertEquals("MARGINAL_B must be true or false, got 'maybe'",
        assertThrows(IllegalArgumentException.class, () -> s.getBoolean("MARGINAL_B", false)).getMessage());
    assertEquals("MARGINAL_CACHE must be a byte count such as 268435456 or 256m, got '256q'",
        assertThrows(IllegalArgumentException.class, () -> s.getBytes("MARGINAL_CACHE", 1)).getMessage());
    assertEquals("MARGINAL_X must be a number, got '1.5.2'",
        assertThrows(IllegalArgumentException.class, () -> s.getDouble("MARGINAL_X", 1)).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> s.getBytes("MARGINAL_BIG", 1)).getMessage()
        .startsWith("MARGINAL_BIG must be a byte count"));
  }

  @Test
  void prefixedKeysBecomeClientSettings() {
    Settings s = Settings.of(Map.of("MARGINAL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL", "MARGINAL_KAFKA_SASL_JAAS_CONFIG", "x",
        "MARGINAL_OTHER", "y"));
    assertEquals(Map.of("security.protocol", "SASL_SSL", "sasl.jaas.config", "x"), s.asDottedKeys("MARGINAL_KAFKA_"));
    assertEquals(Map.of("SECURITY_PROTOCOL", "SASL_SSL", "SASL_JAAS_CONFIG", "x"), s.withPrefix("MARGINAL_KAFKA_"));
  }

  @Test
  void aPropertiesFileGivesDefaultsThatTheEnvironmentOverrides(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("node.properties");
    Files.writeString(file, "MARGINAL_A = from-file\nMARGINAL_B=from-file\n");
    Settings s = Settings.of(Map.of("MARGINAL_CONFIG", file.toString(), "MARGINAL_B", "from-env")).overFileNamedBy("MARGINAL_CONFIG");
    assertEquals("from-file", s.getString("MARGINAL_A", null));
    assertEquals("from-env", s.getString("MARGINAL_B", null));
    assertEquals("x", s.with(Map.of("MARGINAL_B", "x")).getString("MARGINAL_B", null));

    Settings missing = Settings.of(Map.of("MARGINAL_CONFIG", dir.resolve("nope").toString()));
    String msg = assertThrows(UncheckedIOException.class, () -> missing.overFileNamedBy("MARGINAL_CONFIG")).getMessage();
    assertTrue(msg.startsWith("MARGINAL_CONFIG: cannot read ") && msg.contains("nope"), msg);
    assertEquals(Map.of(), Settings.of(Map.of()).overFileNamedBy("MARGINAL_CONFIG").asMap());
  }
}
