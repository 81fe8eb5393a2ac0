package io.marginal.inference.metrics;

import io.marginal.metrics.ServiceMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * The node's own meters, on the service's Micrometer registry (which {@code /metrics} exposes in
 * the Prometheus text format with the JVM and process metrics). Names follow Prometheus
 * conventions once Micrometer renders them: base units (seconds, bytes), {@code _total} on
 * counters, histograms with fixed buckets for latencies. Thread-safe; cheap to update.
 */
public final class NodeMetrics {

  private static final Duration[] LATENCY_BUCKETS = seconds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);
  private static final Duration[] SWAP_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5);
  private static final Duration[] TOKEN_GAP_BUCKETS = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1);

  private final ServiceMetrics service;
  private final MeterRegistry registry;
  private final Map<String, Counter> requests = new ConcurrentHashMap<>();
  private final Timer requestLatency;
  private final Timer firstToken;
  private final Timer interToken;
  private final Timer swapLatency;
  private final Counter generatedTokens;
  private final Counter generationSeconds;
  private final Counter queueFull;
  private final Counter timeouts;
  private final Counter interactionsPublished;
  private final Counter interactionPublishFailures;
  private final Counter personalized;
  private final Map<String, ActiveAdapter> activeAdapters = new ConcurrentHashMap<>();
  private final AtomicLong lastSwapMs = new AtomicLong(-1);
  private volatile double recentTokensPerSecond;

  /** A shared adapter's gauge: one per adapter id, re-registered if its scope label changes. */
  private record ActiveAdapter(String scope, AtomicLong version, Gauge gauge) {
  }

  /** The node's meters on {@code service}'s registry (which already has the JVM and process metrics). */
  public NodeMetrics(ServiceMetrics service) {
    this.service = service;
    this.registry = service.registry();
    requestLatency = Timer.builder("marginal.chat.request.duration")
        .description("Chat completion latency (queue + generation), request received to answer ready.")
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    firstToken = Timer.builder("marginal.time.to.first.token")
        .description("Request received to the first piece of the answer handed to the response (queue, prefill, and for a"
            + " personalized answer the CM choice).")
        .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    interToken = Timer.builder("marginal.inter.token.latency")
        .description("Time between two consecutive tokens of a streamed generation (decode step as one sequence sees it).")
        .serviceLevelObjectives(TOKEN_GAP_BUCKETS).register(registry);
    swapLatency = Timer.builder("marginal.adapter.swap")
        .description("Adapter event received to the new version serving (verify + load + swap).")
        .serviceLevelObjectives(SWAP_BUCKETS).register(registry);
    generatedTokens = counter("marginal.generated.tokens", null, "Completion tokens generated.");
    generationSeconds = counter("marginal.generation", "seconds",
        "Seconds spent generating (tokens/s = rate of marginal_generated_tokens_total / rate of this).");
    queueFull = counter("marginal.requests.rejected.queue.full", null, "Requests refused with 429 because the worker queue was full.");
    timeouts = counter("marginal.requests.timed.out", null, "Requests that ran past MARGINAL_REQUEST_TIMEOUT.");
    personalized = counter("marginal.personalized.answers", null, "Answers chosen by CM marginalization over a non-empty memory bank.");
    interactionsPublished = counter("marginal.interactions.published", null, "Interaction records acknowledged by Kafka.");
    interactionPublishFailures = counter("marginal.interaction.publish.failures", null, "Interaction records Kafka did not take.");
    gauge("marginal.tokens.per.second", null, "Recent per-request generation speed (moving average).", () -> recentTokensPerSecond);
    TimeGauge.builder("marginal.adapter.last.swap", lastSwapMs, TimeUnit.MILLISECONDS, AtomicLong::get)
        .description("Latency of the most recent adapter swap (-0.001 before the first).").register(registry);
  }

  public void request(String route, int status) {
    requests.computeIfAbsent(route + " " + status, k -> Counter.builder("marginal.http.requests")
        .description("HTTP requests by route and status.").tags("route", route, "status", String.valueOf(status))
        .register(registry)).increment();
  }

  public void chatLatency(double seconds) {
    requestLatency.record(Duration.ofNanos((long) (seconds * 1e9)));
  }

  /** Request received to the first text of its answer. */
  public void firstToken(long nanos) {
    firstToken.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The gap between two consecutive generated tokens of one sequence. */
  public void interTokenGap(long nanos) {
    interToken.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void generated(int tokens, double seconds) {
    generatedTokens.increment(tokens);
    generationSeconds.increment(seconds);
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
      activeAdapters.compute(adapterId, (id, old) -> {
        if (old != null && old.scope().equals(scope)) {
          old.version().set(version);
          return old;
        }
        if (old != null) {
          registry.remove(old.gauge());
        }
        AtomicLong v = new AtomicLong(version);
        Gauge gauge = Gauge.builder("marginal.adapter.active.version", v::get).description("Adapter version this node serves.")
            .tags("adapter_id", id, "scope", scope).register(registry);
        return new ActiveAdapter(scope, v, gauge);
      });
    }
    lastSwapMs.set(swapMs);
    swapLatency.record(swapMs, TimeUnit.MILLISECONDS);
  }

  /**
   * A refused version (alert on any increase): by adapter id when shared; per-user adapters are
   * counted together under {@code scope="user"} with an empty {@code adapter_id} (Prometheus reads
   * an empty label as absent).
   */
  public void adapterRejected(String adapterId, String scope) {
    boolean user = isUserScope(scope);
    Counter.builder("marginal.adapter.rejected")
        .description("Adapter versions refused (checksum, manifest, shapes, non-finite weights); alert on any increase."
            + " Per-user adapters are counted together, never by id.")
        .tags(Tags.of("adapter_id", user ? "" : adapterId, "scope", user ? "user" : "shared"))
        .register(registry).increment();
  }

  static boolean isUserScope(String scope) {
    return scope == null || scope.startsWith("user:") || scope.equals("user");
  }

  public void adapterRetired(String adapterId) {
    ActiveAdapter gone = activeAdapters.remove(adapterId);
    if (gone != null) {
      registry.remove(gone.gauge());
    }
  }

  /** A gauge read at scrape time; {@code baseUnit} (seconds, bytes) is appended to the name, or null. */
  public void gauge(String name, String baseUnit, String help, DoubleSupplier value) {
    Gauge.builder(name, value::getAsDouble).baseUnit(baseUnit).description(help).register(registry);
  }

  /** A counter kept elsewhere (monotonic), read at scrape time; {@code state} is held strongly by its owner. */
  public <T> void counter(String name, String help, T state, ToDoubleFunction<T> value) {
    FunctionCounter.builder(name, state, value).description(help).register(registry);
  }

  /** A count and a total time kept elsewhere, read at scrape time as {@code <name>_seconds_count/_sum}. */
  public <T> void timer(String name, String help, T state, ToLongFunction<T> count, ToDoubleFunction<T> totalNanos) {
    FunctionTimer.builder(name, state, count, totalNanos, TimeUnit.NANOSECONDS).description(help).register(registry);
  }

  /** Every meter of the node, JVM and process ones included, in the Prometheus text format ({@link ServiceMetrics#CONTENT_TYPE}). */
  public String scrape() {
    return service.scrape();
  }

  public long lastSwapMs() {
    return lastSwapMs.get();
  }

  private Counter counter(String name, String baseUnit, String help) {
    return Counter.builder(name).baseUnit(baseUnit).description(help).register(registry);
  }

  private static Duration[] seconds(double... bounds) {
    Duration[] out = new Duration[bounds.length];
    for (int i = 0; i < bounds.length; i++) {
      out[i] = Duration.ofNanos(Math.round(bounds[i] * 1e9));
    }
    return out;
  }
}
