package io.marginal.inference.metrics;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * The node's metrics in the Prometheus text format (written by hand: a handful of counters,
 * gauges and two histograms do not need a client library). Thread-safe; cheap to update.
 */
public final class NodeMetrics {

  private static final double[] LATENCY_BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  private static final double[] SWAP_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

  private final Map<String, LongAdder> requests = new ConcurrentSkipListMap<>();
  private final Histogram requestLatency = new Histogram(LATENCY_BUCKETS);
  private final Histogram swapLatency = new Histogram(SWAP_BUCKETS);
  private final LongAdder generatedTokens = new LongAdder();
  private final DoubleAdder generationSeconds = new DoubleAdder();
  private final LongAdder queueFull = new LongAdder();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder interactionsPublished = new LongAdder();
  private final LongAdder interactionPublishFailures = new LongAdder();
  private final LongAdder personalized = new LongAdder();
  private final Map<String, String> adapterScopes = new ConcurrentHashMap<>();
  private final Map<String, Integer> adapterVersions = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> adapterRejections = new ConcurrentSkipListMap<>();
  private final AtomicLong lastSwapMs = new AtomicLong(-1);
  private final Map<String, DoubleSupplier> gauges = new ConcurrentSkipListMap<>();
  private volatile double recentTokensPerSecond;

  public void request(String route, int status) {
    requests.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
  }

  public void chatLatency(double seconds) {
    requestLatency.observe(seconds);
  }

  public void generated(int tokens, double seconds) {
    generatedTokens.add(tokens);
    generationSeconds.add(seconds);
    if (seconds > 0) {
      recentTokensPerSecond = 0.8 * recentTokensPerSecond + 0.2 * (tokens / seconds);
    }
  }

  public void queueFull() {
    queueFull.increment();
  }

  public void timeout() {
    timeouts.increment();
  }

  public void personalized() {
    personalized.increment();
  }

  public void interactionPublished(boolean ok) {
    (ok ? interactionsPublished : interactionPublishFailures).increment();
  }

  /**
   * Shared adapters are labelled by id; a per-user adapter's id names its user, so those are only
   * counted ({@code marginal_user_adapters_active}): no user id ever appears in a label.
   */
  public void adapterActivated(String adapterId, String scope, int version, long swapMs) {
    if (!isUserScope(scope)) {
      adapterScopes.put(adapterId, scope);
      adapterVersions.put(adapterId, version);
    }
    lastSwapMs.set(swapMs);
    swapLatency.observe(swapMs / 1000.0);
  }

  /** A refused version (alert on any increase): by adapter id when shared, under {@code user} otherwise. */
  public void adapterRejected(String adapterId, String scope) {
    adapterRejections.computeIfAbsent(isUserScope(scope) ? "user" : "shared\u0000" + adapterId, k -> new LongAdder()).increment();
  }

  static boolean isUserScope(String scope) {
    return scope == null || scope.startsWith("user:") || scope.equals("user");
  }

  public void adapterRetired(String adapterId) {
    adapterVersions.remove(adapterId);
    adapterScopes.remove(adapterId);
  }

  /** Registers a gauge read at scrape time ({@code name} may carry labels). */
  public void gauge(String name, DoubleSupplier value) {
    gauges.put(name, value);
  }

  public long lastSwapMs() {
    return lastSwapMs.get();
  }

  public String scrape() {
    StringBuilder out = new StringBuilder(4096);
    out.append("# HELP marginal_http_requests_total HTTP requests by route and status.\n");
    out.append("# TYPE marginal_http_requests_total counter\n");
    requests.forEach((k, v) -> {
      String[] parts = k.split("\u0000");
      out.append("marginal_http_requests_total{route=\"").append(parts[0]).append("\",status=\"").append(parts[1])
          .append("\"} ").append(v.sum()).append('\n');
    });
    requestLatency.write(out, "marginal_chat_request_duration_seconds", "Chat completion latency (queue + generation).");
    counter(out, "marginal_generated_tokens_total", "Completion tokens generated.", generatedTokens.sum());
    counter(out, "marginal_generation_seconds_total", "Seconds spent generating (tokens/s = rate of tokens / rate of this).",
        generationSeconds.sum());
    gauge(out, "marginal_tokens_per_second", "Recent per-request generation speed (moving average).", recentTokensPerSecond);
    counter(out, "marginal_requests_rejected_queue_full_total", "Requests refused with 429 because the worker queue was full.",
        queueFull.sum());
    counter(out, "marginal_requests_timed_out_total", "Requests that ran past MARGINAL_REQUEST_TIMEOUT.", timeouts.sum());
    counter(out, "marginal_personalized_answers_total", "Answers chosen by CM marginalization over a non-empty memory bank.",
        personalized.sum());
    counter(out, "marginal_interactions_published_total", "Interaction records acknowledged by Kafka.", interactionsPublished.sum());
    counter(out, "marginal_interaction_publish_failures_total", "Interaction records Kafka did not take.",
        interactionPublishFailures.sum());
    out.append("# HELP marginal_adapter_active_version Adapter version this node serves.\n");
    out.append("# TYPE marginal_adapter_active_version gauge\n");
    new TreeMap<>(adapterVersions).forEach((id, v) -> out.append("marginal_adapter_active_version{adapter_id=\"").append(id)
        .append("\",scope=\"").append(adapterScopes.getOrDefault(id, "")).append("\"} ").append(v).append('\n'));
    out.append("# HELP marginal_adapter_rejected_total Adapter versions refused (checksum, manifest, shapes, non-finite"
        + " weights); alert on any increase. Per-user adapters are counted together, never by id.\n");
    out.append("# TYPE marginal_adapter_rejected_total counter\n");
    adapterRejections.forEach((k, v) -> {
      String labels = k.equals("user") ? "scope=\"user\"" : "adapter_id=\"" + k.substring(k.indexOf('\u0000') + 1) + "\",scope=\"shared\"";
      out.append("marginal_adapter_rejected_total{").append(labels).append("} ").append(v.sum()).append('\n');
    });
    swapLatency.write(out, "marginal_adapter_swap_seconds", "Event received to new version serving (verify + load + swap).");
    gauge(out, "marginal_adapter_last_swap_milliseconds", "Latency of the most recent adapter swap.", lastSwapMs.get());
    gauges.forEach((name, supplier) -> {
      String base = name.contains("{") ? name.substring(0, name.indexOf('{')) : name;
      out.append("# TYPE ").append(base).append(" gauge\n");
      out.append(name).append(' ').append(format(supplier.getAsDouble())).append('\n');
    });
    return out.toString();
  }

  private static void counter(StringBuilder out, String name, String help, double value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" counter\n");
    out.append(name).append(' ').append(format(value)).append('\n');
  }

  private static void gauge(StringBuilder out, String name, String help, double value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" gauge\n");
    out.append(name).append(' ').append(format(value)).append('\n');
  }

  static String format(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.6g", v);
  }

  /** A cumulative-bucket histogram. */
  static final class Histogram {
    private final double[] bounds;
    private final LongAdder[] counts;
    private final DoubleAdder sum = new DoubleAdder();
    private final LongAdder count = new LongAdder();

    Histogram(double[] bounds) {
      this.bounds = bounds;
      this.counts = new LongAdder[bounds.length];
      for (int i = 0; i < bounds.length; i++) {
        counts[i] = new LongAdder();
      }
    }

    void observe(double v) {
      for (int i = 0; i < bounds.length; i++) {
        if (v <= bounds[i]) {
          counts[i].increment();
        }
      }
      sum.add(v);
      count.increment();
    }

    void write(StringBuilder out, String name, String help) {
      out.append("# HELP ").append(name).append(' ').append(help).append('\n');
      out.append("# TYPE ").append(name).append(" histogram\n");
      for (int i = 0; i < bounds.length; i++) {
        out.append(name).append("_bucket{le=\"").append(format(bounds[i])).append("\"} ").append(counts[i].sum()).append('\n');
      }
      out.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
      out.append(name).append("_sum ").append(format(sum.sum())).append('\n');
      out.append(name).append("_count ").append(count.sum()).append('\n');
    }
  }
}
