package io.marginal.trainer.unlearning;

import java.util.Locale;

/**
 * {@code hits} out of {@code n}, with a 95 % Wilson score interval: the interval stays inside [0, 1] and
 * is honest at 0 % and 100 %, where the normal approximation collapses to a point. It assumes independent
 * trials; prompts that are surface variants of one phrasing are not, so read it as a lower bound on the
 * uncertainty.
 */
public record Proportion(int hits, int n) {

  private static final double Z95 = 1.959963984540054;

  public Proportion {
    if (n < 0 || hits < 0 || hits > n) {
      throw new IllegalArgumentException("a proportion needs 0 <= hits <= n, got " + hits + "/" + n);
    }
  }

  public double rate() {
    return n == 0 ? Double.NaN : (double) hits / n;
  }

  public double low() {
    return n == 0 ? Double.NaN : centre() - halfWidth();
  }

  public double high() {
    return n == 0 ? Double.NaN : centre() + halfWidth();
  }

  private double centre() {
    double z2 = Z95 * Z95;
    return (rate() + z2 / (2.0 * n)) / (1 + z2 / n);
  }

  private double halfWidth() {
    double z2 = Z95 * Z95;
    double p = rate();
    return Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
  }

  /** "12.5% [6.1, 23.9] (5/40)". */
  @Override
  public String toString() {
    return n == 0 ? "–" : String.format(Locale.ROOT, "%.1f%% [%.1f, %.1f] (%d/%d)", 100 * rate(), 100 * Math.max(0, low()),
        100 * Math.min(1, high()), hits, n);
  }
}
