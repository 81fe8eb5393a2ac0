package io.marginal.personalization.cm;

import java.util.List;

/** The one cosine similarity of instance embeddings (estimator, node-side candidate selection, baselines). */
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
}
