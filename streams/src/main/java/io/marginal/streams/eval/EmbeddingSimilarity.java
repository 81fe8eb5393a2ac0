package io.marginal.streams.eval;

import java.util.List;

/** Cosine similarity between a query embedding and stored ones (bank entries keep theirs as {@code List<Float>}). */
final class EmbeddingSimilarity {

  private EmbeddingSimilarity() {
  }

  static double norm(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v * v;
    }
    return Math.sqrt(s);
  }

  /** cos(x, y) given |x|; NEGATIVE_INFINITY for an embedding of another dimension (never a neighbour), 0 for a zero vector. */
  static double cosine(float[] x, double xNorm, List<Float> y) {
    if (y.size() != x.length) {
      return Double.NEGATIVE_INFINITY;
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

  static double cosine(float[] x, float[] y) {
    double dot = 0;
    for (int i = 0; i < x.length; i++) {
      dot += x[i] * y[i];
    }
    double n = norm(x) * norm(y);
    return n == 0 ? 0 : dot / n;
  }
}
