package io.marginal.ops.bench;

import java.util.List;

/** Nearest-rank percentiles of a set of latencies in milliseconds. */
public record LatencyStats(int count, double p50, double p99, double max) {

  public static LatencyStats of(List<Double> millis) {
    if (millis.isEmpty()) {
      return new LatencyStats(0, Double.NaN, Double.NaN, Double.NaN);
    }
    double[] sorted = millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new LatencyStats(sorted.length, rank(sorted, 50), rank(sorted, 99), sorted[sorted.length - 1]);
  }

  /** The smallest value with at least {@code p} % of the values at or below it. */
  static double rank(double[] sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  @Override
  public String toString() {
    return count == 0 ? "n=0" : String.format("n=%d p50=%.0f ms p99=%.0f ms max=%.0f ms", count, p50, p99, max);
  }
}
