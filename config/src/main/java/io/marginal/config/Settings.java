package io.marginal.config;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Flat {@code MARGINAL_*} settings — the environment, a properties file with the same keys, or system
 * properties — read as typed values. Every service and tool reads its configuration through this one
 * class, so a key is parsed the same way everywhere and a bad value is reported the same way: an
 * {@link IllegalArgumentException} that names the key, the value given and what is expected
 * ({@code "MARGINAL_QUEUE_CAPACITY must be an integer, got 'lots'"}).
 *
 * <p>A key that is absent or blank takes the default.
 */
public final class Settings {

  private final Map<String, String> values;

  private Settings(Map<String, String> values) {
    this.values = values;
  }

  /** Settings from a flat map (the environment, a test's map); later changes to {@code values} are not seen. */
  public static Settings of(Map<String, String> values) {
    return new Settings(Collections.unmodifiableMap(new TreeMap<>(values)));
  }

  /** The process environment. */
  public static Settings environment() {
    return of(System.getenv());
  }

  /** The process environment overridden by system properties of the same name ({@code -DMARGINAL_X=...}). */
  public static Settings environmentAndSystemProperties() {
    Map<String, String> merged = new TreeMap<>(System.getenv());
    System.getProperties().forEach((k, v) -> merged.put(k.toString(), v.toString()));
    return of(merged);
  }

  /**
   * These settings laid over the properties file named by {@code fileKey} (when set): the file gives
   * defaults, the keys set here win.
   */
  public Settings overFileNamedBy(String fileKey) {
    Optional<String> file = find(fileKey);
    if (file.isEmpty()) {
      return this;
    }
    Map<String, String> all = new TreeMap<>(readProperties(Path.of(file.get()), fileKey));
    all.putAll(values);
    return of(all);
  }

  /** These settings with {@code overrides} on top. */
  public Settings with(Map<String, String> overrides) {
    Map<String, String> all = new TreeMap<>(values);
    all.putAll(overrides);
    return of(all);
  }

  /**
   * Reads a properties file ({@code key=value} lines, values trimmed).
   *
   * @param origin what named the file, for the error message (a key or an option)
   * @throws UncheckedIOException naming {@code origin} and the file when it cannot be read
   */
  public static Map<String, String> readProperties(Path file, String origin) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException(origin + ": cannot read " + file.toAbsolutePath() + ": " + e.getMessage(), e);
    }
    Map<String, String> out = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k).trim()));
    return out;
  }

  /** All keys and values, sorted by key. */
  public Map<String, String> asMap() {
    return values;
  }

  /** Whether {@code key} is set to a non-blank value. */
  public boolean isSet(String key) {
    return find(key).isPresent();
  }

  /** The value of {@code key}, trimmed; empty when absent or blank. */
  public Optional<String> find(String key) {
    String v = values.get(key);
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }

  /**
   * Keys that start with {@code prefix}, with the prefix removed, e.g. {@code MARGINAL_KAFKA_} →
   * {@code SECURITY_PROTOCOL}; values as given.
   */
  public Map<String, String> withPrefix(String prefix) {
    Map<String, String> out = new TreeMap<>();
    values.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k.substring(prefix.length()), v);
      }
    });
    return out;
  }

  /**
   * Keys that start with {@code prefix} as Kafka client settings: prefix removed, lower case,
   * {@code _} → {@code .} ({@code MARGINAL_KAFKA_SECURITY_PROTOCOL} → {@code security.protocol}).
   */
  public Map<String, String> asDottedKeys(String prefix) {
    Map<String, String> out = new TreeMap<>();
    withPrefix(prefix).forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT).replace('_', '.'), v));
    return out;
  }

  public String getString(String key, String dflt) {
    return find(key).orElse(dflt);
  }

  public Path getPath(String key, Path dflt) {
    return find(key).map(Path::of).orElse(dflt);
  }

  public int getInt(String key, int dflt) {
    return find(key).map(v -> parse(key, v, "an integer", () -> Integer.parseInt(v))).orElse(dflt);
  }

  public long getLong(String key, long dflt) {
    return find(key).map(v -> parse(key, v, "an integer", () -> Long.parseLong(v))).orElse(dflt);
  }

  public double getDouble(String key, double dflt) {
    return find(key).map(v -> parse(key, v, "a number", () -> Double.parseDouble(v))).orElse(dflt);
  }

  /** {@code true}/{@code false} (also {@code yes}/{@code no}, {@code 1}/{@code 0}), any case. */
  public boolean getBoolean(String key, boolean dflt) {
    return find(key).map(v -> switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "1" -> true;
      case "false", "no", "0" -> false;
      default -> throw invalid(key, v, "true or false", null);
    }).orElse(dflt);
  }

  /** A byte count: digits with an optional {@code k}, {@code m} or {@code g} suffix (powers of 1024), e.g. {@code 256m}. */
  public long getBytes(String key, long dflt) {
    return find(key).map(v -> parseBytes(key, v)).orElse(dflt);
  }

  /** An ISO-8601 duration such as {@code PT30S} or {@code P1D}. */
  public Duration getDuration(String key, Duration dflt) {
    return find(key).map(v -> parse(key, v, "an ISO-8601 duration such as PT30S", () -> Duration.parse(v))).orElse(dflt);
  }

  /** {@link #getBytes}'s parsing, for values that come from elsewhere (a command-line option). */
  public static long parseBytes(String name, String value) {
    String t = value.trim().toLowerCase(Locale.ROOT);
    if (t.isEmpty()) {
      throw invalid(name, value, "a byte count such as 268435456 or 256m", null);
    }
    int shift = switch (t.charAt(t.length() - 1)) {
      case 'k' -> 10;
      case 'm' -> 20;
      case 'g' -> 30;
      default -> 0;
    };
    String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
    long n = parse(name, value, "a byte count such as 268435456 or 256m", () -> Long.parseLong(digits));
    if (n < 0 || Long.numberOfLeadingZeros(n) <= shift) {
      throw invalid(name, value, "a byte count such as 268435456 or 256m (>= 0, below 8 EiB)", null);
    }
    return n << shift;
  }

  @Override
  public String toString() {
    return "Settings" + values.keySet();
  }

  private interface Parser<T> {
    T parse();
  }

  private static <T> T parse(String key, String value, String expected, Parser<T> parser) {
    try {
      return parser.parse();
    } catch (NumberFormatException | DateTimeParseException e) {
      throw invalid(key, value, expected, e);
    }
  }

  private static IllegalArgumentException invalid(String key, String value, String expected, Exception cause) {
    return new IllegalArgumentException(key + " must be " + expected + ", got '" + value + "'", cause);
  }
}
