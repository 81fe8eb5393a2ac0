package io.marginal.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests that scrape a
 * service's {@code /metrics}. It refuses what Prometheus would refuse and what our conventions
 * forbid: every sample line is {@code name{label="value",...} value [timestamp]} with valid names
 * and escapes; every sample belongs to a family declared by a {@code # TYPE} line before it, at
 * most one HELP and one TYPE per family, a family's samples are contiguous, no sample repeats;
 * counters are named {@code *_total}; a histogram has cumulative {@code _bucket}s with numeric
 * ascending {@code le} ending at {@code +Inf}, whose count equals {@code _count}, and a {@code _sum}.
 */
public final class PrometheusText {

  private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {
  }

  /** One metric family: its TYPE, HELP (empty when absent) and samples in the order written. */
  public record Family(String name, String type, String help, List<Sample> samples) {
  }

  private final Map<String, Family> families;

  private PrometheusText(Map<String, Family> families) {
    this.families = Collections.unmodifiableMap(families);
  }

  /** GETs {@code uri} (with {@code bearer} as the Authorization token unless null), checks status 200 and the content type, parses. */
  public static PrometheusText scrape(URI uri, String bearer) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET();
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    try {
      HttpResponse<String> response = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("GET " + uri + " answered " + response.statusCode() + ": " + response.body());
      }
      String type = response.headers().firstValue("content-type").orElse("");
      if (!type.startsWith("text/plain") || !type.contains("version=0.0.4")) {
        throw new IllegalStateException("GET " + uri + " content-type is '" + type + "', not the Prometheus text format 0.0.4");
      }
      return parse(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + uri, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted scraping " + uri, e);
    }
  }

  /** Parses {@code text}, throwing {@link IllegalArgumentException} (with the line number) at the first violation. */
  public static PrometheusText parse(String text) {
    Map<String, String> types = new LinkedHashMap<>();
    Map<String, String> helps = new LinkedHashMap<>();
    Map<String, List<Sample>> samples = new LinkedHashMap<>();
    Set<String> closed = new HashSet<>();
    Set<String> seen = new HashSet<>();
    String current = null;
    String[] lines = text.split("\n", -1);
    if (!text.isEmpty() && !text.endsWith("\n")) {
      throw new IllegalArgumentException("the exposition does not end with a newline");
    }
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      int no = i + 1;
      if (line.isEmpty()) {
        continue;
      }
      try {
        if (line.startsWith("#")) {
          String[] parts = line.split(" ", 4);
          if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
            String family = parts[2];
            requireName(family, METRIC_NAME, "metric");
            if (samples.containsKey(family)) {
              throw new IllegalArgumentException(parts[1] + " for " + family + " after its samples");
            }
            if (current != null && !current.equals(family)) {
              closed.add(current);
            }
            if (closed.contains(family)) {
              throw new IllegalArgumentException(family + " declared again after another family");
            }
            current = family;
            if (parts[1].equals("TYPE")) {
              String type = parts.length == 4 ? parts[3] : "";
              if (!TYPES.contains(type)) {
                throw new IllegalArgumentException("unknown type '" + type + "' for " + family);
              }
              if (types.putIfAbsent(family, type) != null) {
                throw new IllegalArgumentException("second TYPE line for " + family);
              }
              if (type.equals("counter") && !family.endsWith("_total")) {
                throw new IllegalArgumentException("counter " + family + " is not named *_total");
              }
            } else if (helps.putIfAbsent(family, parts.length == 4 ? parts[3] : "") != null) {
              throw new IllegalArgumentException("second HELP line for " + family);
            }
          }
          continue; // any other comment is allowed by the format
        }
        Sample sample = sample(line);
        String family = familyOf(sample.name(), types);
        if (family == null) {
          throw new IllegalArgumentException("sample " + sample.name() + " has no TYPE line before it");
        }
        if (!family.equals(current)) {
          if (current != null) {
            closed.add(current);
          }
          if (closed.contains(family)) {
            throw new IllegalArgumentException("samples of " + family + " are not contiguous");
          }
          current = family;
        }
        if (!seen.add(sample.name() + sample.labels())) {
          throw new IllegalArgumentException("duplicate sample " + sample.name() + sample.labels());
        }
        samples.computeIfAbsent(family, k -> new ArrayList<>()).add(sample);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("line " + no + ": " + e.getMessage() + "\n  " + line, e);
      }
    }
    Map<String, Family> families = new TreeMap<>();
    types.forEach((name, type) -> {
      List<Sample> list = samples.getOrDefault(name, List.of());
      if (type.equals("histogram")) {
        checkHistogram(name, list);
      }
      families.put(name, new Family(name, type, helps.getOrDefault(name, ""), List.copyOf(list)));
    });
    for (String help : helps.keySet()) {
      if (!types.containsKey(help)) {
        throw new IllegalArgumentException("HELP for " + help + " without a TYPE line");
      }
    }
    return new PrometheusText(families);
  }

  private static String familyOf(String sampleName, Map<String, String> types) {
    String type = types.get(sampleName);
    if (type != null) {
      return type.equals("histogram") ? null : sampleName;
    }
    for (String suffix : List.of("_bucket", "_sum", "_count")) {
      if (sampleName.endsWith(suffix)) {
        String base = sampleName.substring(0, sampleName.length() - suffix.length());
        String baseType = types.get(base);
        if ("histogram".equals(baseType) || ("summary".equals(baseType) && !suffix.equals("_bucket"))) {
          return base;
        }
      }
    }
    return null;
  }

  private static void checkHistogram(String name, List<Sample> samples) {
    Map<Map<String, String>, List<Sample>> bySeries = new LinkedHashMap<>();
    Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
    Set<Map<String, String>> sums = new HashSet<>();
    for (Sample s : samples) {
      Map<String, String> series = new TreeMap<>(s.labels());
      if (s.name().equals(name + "_bucket")) {
        if (series.remove("le") == null) {
          throw new IllegalArgumentException("histogram " + name + ": bucket without an le label " + s.labels());
        }
        bySeries.computeIfAbsent(series, k -> new ArrayList<>()).add(s);
      } else if (s.name().equals(name + "_count")) {
        counts.put(series, s.value());
      } else if (s.name().equals(name + "_sum")) {
        sums.add(series);
      }
    }
    if (bySeries.isEmpty() && !samples.isEmpty()) {
      throw new IllegalArgumentException("histogram " + name + " has no _bucket samples");
    }
    bySeries.forEach((series, buckets) -> {
      double previousLe = Double.NEGATIVE_INFINITY;
      double previousCount = 0;
      for (Sample b : buckets) {
        double le = number(b.labels().get("le"));
        if (!(le > previousLe)) {
          throw new IllegalArgumentException("histogram " + name + series + ": le " + b.labels().get("le") + " not ascending");
        }
        if (b.value() < previousCount) {
          throw new IllegalArgumentException("histogram " + name + series + ": bucket le=" + b.labels().get("le") + " is not cumulative");
        }
        previousLe = le;
        previousCount = b.value();
      }
      if (previousLe != Double.POSITIVE_INFINITY) {
        throw new IllegalArgumentException("histogram " + name + series + ": the last bucket is not le=\"+Inf\"");
      }
      Double count = counts.get(series);
      if (count == null || count != previousCount) {
        throw new IllegalArgumentException("histogram " + name + series + ": _count " + count + " differs from the +Inf bucket " + previousCount);
      }
      if (!sums.contains(series)) {
        throw new IllegalArgumentException("histogram " + name + series + " has no _sum");
      }
    });
  }

  private static Sample sample(String line) {
    int i = 0;
    int n = line.length();
    while (i < n && line.charAt(i) != '{' && line.charAt(i) != ' ') {
      i++;
    }
    String name = line.substring(0, i);
    requireName(name, METRIC_NAME, "metric");
    Map<String, String> labels = new TreeMap<>();
    if (i < n && line.charAt(i) == '{') {
      i++;
      while (true) {
        if (i < n && line.charAt(i) == '}') {
          i++;
          break;
        }
        int eq = line.indexOf('=', i);
        if (eq < 0) {
          throw new IllegalArgumentException("label without '='");
        }
        String label = line.substring(i, eq);
        requireName(label, LABEL_NAME, "label");
        if (eq + 1 >= n || line.charAt(eq + 1) != '"') {
          throw new IllegalArgumentException("value of label " + label + " is not quoted");
        }
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        for (; j < n && line.charAt(j) != '"'; j++) {
          char c = line.charAt(j);
          if (c == '\\') {
            char next = j + 1 < n ? line.charAt(++j) : ' ';
            switch (next) {
              case '\\' -> value.append('\\');
              case '"' -> value.append('"');
              case 'n' -> value.append('\n');
              default -> throw new IllegalArgumentException("bad escape \\" + next + " in label " + label);
            }
          } else {
            value.append(c);
          }
        }
        if (j >= n) {
          throw new IllegalArgumentException("unterminated value of label " + label);
        }
        if (labels.put(label, value.toString()) != null) {
          throw new IllegalArgumentException("label " + label + " twice");
        }
        i = j + 1;
        if (i < n && line.charAt(i) == ',') {
          i++;
        } else if (i >= n || line.charAt(i) != '}') {
          throw new IllegalArgumentException("expected ',' or '}' after label " + label);
        }
      }
    }
    if (i >= n || line.charAt(i) != ' ') {
      throw new IllegalArgumentException("no space before the value");
    }
    String[] rest = line.substring(i + 1).split(" ", -1);
    if (rest.length < 1 || rest.length > 2) {
      throw new IllegalArgumentException("expected 'value [timestamp]' after the labels");
    }
    double value = number(rest[0]);
    if (rest.length == 2) {
      try {
        Long.parseLong(rest[1]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("timestamp '" + rest[1] + "' is not an integer");
      }
    }
    return new Sample(name, Collections.unmodifiableMap(labels), value);
  }

  private static double number(String s) {
    switch (s == null ? "" : s) {
      case "+Inf", "Inf" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-Inf" -> {
        return Double.NEGATIVE_INFINITY;
      }
      case "NaN" -> {
        return Double.NaN;
      }
      default -> {
        if (s == null || !s.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) {
          throw new IllegalArgumentException("'" + s + "' is not a number");
        }
        return Double.parseDouble(s);
      }
    }
  }

  private static void requireName(String name, Pattern pattern, String what) {
    if (!pattern.matcher(name).matches()) {
      throw new IllegalArgumentException("'" + name + "' is not a valid " + what + " name");
    }
  }

  public Map<String, Family> families() {
    return families;
  }

  /** The family {@code name} (for a histogram, its base name), or an exception listing what there is. */
  public Family family(String name) {
    Family f = families.get(name);
    if (f == null) {
      throw new AssertionError("no metric family " + name + "; families: " + families.keySet());
    }
    return f;
  }

  /**
   * The one sample named {@code sampleName} whose labels include {@code labels} (name, value, name,
   * value …), if there is one; an {@link AssertionError} if several match.
   */
  public Optional<Double> find(String sampleName, String... labels) {
    Map<String, String> wanted = new TreeMap<>();
    for (int i = 0; i + 1 < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    List<Sample> matches = new ArrayList<>();
    for (Family f : families.values()) {
      for (Sample s : f.samples()) {
        if (s.name().equals(sampleName) && s.labels().entrySet().containsAll(wanted.entrySet())) {
          matches.add(s);
        }
      }
    }
    if (matches.size() > 1) {
      throw new AssertionError(matches.size() + " samples match " + sampleName + wanted + ": " + matches);
    }
    return matches.stream().findFirst().map(Sample::value);
  }

  /** Like {@link #find} but the sample must exist. */
  public double value(String sampleName, String... labels) {
    return find(sampleName, labels).orElseThrow(() -> new AssertionError("no sample " + sampleName + " with labels "
        + List.of(labels) + "; samples of that name: " + samplesNamed(sampleName)));
  }

  /** The sum over every sample named {@code sampleName} (0 when there is none). */
  public double sum(String sampleName) {
    return samplesNamed(sampleName).stream().mapToDouble(Sample::value).sum();
  }

  public List<Sample> samplesNamed(String sampleName) {
    List<Sample> out = new ArrayList<>();
    families.values().forEach(f -> f.samples().stream().filter(s -> s.name().equals(sampleName)).forEach(out::add));
    return out;
  }

  /** Every sample, for checks over the whole exposition (such as "no label names a user"). */
  public List<Sample> samples() {
    List<Sample> out = new ArrayList<>();
    families.values().forEach(f -> out.addAll(f.samples()));
    return out;
  }
}
