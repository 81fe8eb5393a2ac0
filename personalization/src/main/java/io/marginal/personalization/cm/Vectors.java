package io.marginal.personalization.cm;

import java.util.List;

/**
 * The one cosine similarity of the project (the CM estimator, node-side candidate selection, the evaluation's
 * baselines, and the trainer's U2A gradient cosines): 0 when either vector is all zeros, NaN when the lengths differ.
 */
public final class Vectors {

  private Vectors() {
  }

  /** Euclidean norm of {@code x}. */
  public static double norm(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v * v;
    }
    return Math.sqrt(s);
  }

  /** Cosine of {@code x} and {@code y}; see {@link #cosine(float[], double, List)}. */
  public static double cosine(float[] x, List<Float> y) {
    return cosine(x, norm(x), y);
  }

  /**
   * Cosine of {@code x} (whose norm is {@code xNorm}) and {@code y}: 0 when either is all zeros,
   * and NaN when the lengths differ (an embedding from another space). NaN compares false with
   * everything, so such an entry is never above a similarity floor and never the nearest.
   */
  public static double cosine(float[] x, double xNorm, List<Float> y) {
    if (y.size() != x.length) {
      return Double.NaN;
    }
    double dot = 0;
    double yy = 0;
    for (int i = 0; i < x.length; i++) {
      float v = y.get(i);
      dot += x[i] * v;
      yy += v * v;
    }
    return xNorm == 0 || yy == 0 ? 0 : dot / (xNorm * Math.sqrt(yy));
  }

  /** Cosine of two arrays, accumulated in double: 0 when either is all zeros, NaN when the lengths differ. */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      return Double.NaN;
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
  }
}
