package io.marginal.trainer.job;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Passes progress on and clocks each phase: a phase lasts until the next one starts or {@link #stop}.
 * Work inside a phase can be clocked apart with {@link #clocked} (e.g. the training loop's early-stop
 * checks); it is reported as {@code "phase: part"} and not subtracted from the phase. Not thread-safe.
 */
public final class PhaseTimer implements ProgressListener {

  private final ProgressListener next;
  private final Map<String, Long> nanos = new LinkedHashMap<>();
  private String current;
  private long since;

  public PhaseTimer(ProgressListener next) {
    this.next = next;
  }

  @Override
  public void phase(String name) {
    stop();
    current = name;
    since = System.nanoTime();
    next.phase(name);
  }

  @Override
  public void step(int step, int totalSteps, double loss, long elapsedMillis) {
    next.step(step, totalSteps, loss, elapsedMillis);
  }

  /** Ends the current phase. */
  public void stop() {
    if (current != null) {
      nanos.merge(current, System.nanoTime() - since, Long::sum);
      current = null;
    }
  }

  /** {@code work}, with each call's time added to {@code "<current phase>: part"}. */
  public BooleanSupplier clocked(String part, BooleanSupplier work) {
    return () -> time(part, work::getAsBoolean);
  }

  /** Runs {@code work} now, its time added to {@code "<current phase>: part"}. */
  public <T> T time(String part, Supplier<T> work) {
    String key = current + ": " + part;
    long start = System.nanoTime();
    try {
      return work.get();
    } finally {
      nanos.merge(key, System.nanoTime() - start, Long::sum);
    }
  }

  /** Seconds per phase (and clocked part), in the order they started. */
  public Map<String, Double> seconds() {
    Map<String, Double> out = new LinkedHashMap<>();
    nanos.forEach((k, v) -> out.put(k, v / 1e9));
    return Collections.unmodifiableMap(out);
  }

  /** {@code phase 1.23 s, other 0.45 s}. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    seconds().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(String.format("%.2f", v))
        .append(" s"));
    return sb.toString();
  }
}
