package io.marginal.ops.eval.cm;

import java.util.List;

/**
 * Mean and two-sided 95 % Student-t interval of a few per-seed figures: mean ± t(0.975, n−1) · s / √n, with s the
 * sample standard deviation. The seeds are the unit of replication (each seed draws new users, feedback and banks),
 * so the interval says how much a figure moves when the simulation is redrawn, not how many eval rows there are.
 *
 * @param mean      the mean over seeds
 * @param halfWidth half the interval's width (0 for a single seed: no spread can be estimated, so none is claimed)
 * @param n         how many seeds
 */
public record ConfidenceInterval(double mean, double halfWidth, int n) {

  /** t(0.975, df) for df = 1..30. */
  private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
      2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};

  public static ConfidenceInterval of(List<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("a confidence interval needs at least one value");
    }
    int n = values.size();
    double mean = values.stream().mapToDouble(Double::doubleValue).sum() / n;
    if (n == 1) {
      return new ConfidenceInterval(mean, 0, 1);
    }
    double ss = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
    return new ConfidenceInterval(mean, tQuantile975(n - 1) * Math.sqrt(ss / (n - 1) / n), n);
  }

  /** t(0.975, df); beyond the table, the Cornish–Fisher first-order term over the normal quantile. */
  static double tQuantile975(int df) {
    if (df < 1) {
      throw new IllegalArgumentException("degrees of freedom must be >= 1, got " + df);
    }
    return df <= T975.length ? T975[df - 1] : 1.96 + (1.96 * 1.96 * 1.96 + 1.96) / (4.0 * df);
  }

  public double low() {
    return mean - halfWidth;
  }

  public double high() {
    return mean + halfWidth;
  }

  /** True when this whole interval lies above the other's: the difference is not a matter of which seeds were drawn. */
  public boolean clearlyAbove(ConfidenceInterval other) {
    return low() > other.high();
  }
}
