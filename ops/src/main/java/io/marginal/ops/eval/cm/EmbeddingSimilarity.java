package io.marginal.ops.eval.cm;

import io.marginal.personalization.cm.Vectors;

import java.util.List;

/** Cosine similarity between a query embedding and stored ones (bank entries keep theirs as {@code List<Float>}). */
final class EmbeddingSimilarity {

  private EmbeddingSimilarity() {
  }

  static double norm(float[] x) {
    return Vectors.norm(x);
  }

  /** cos(x, y) given |x| ({@link Vectors#cosine}), with NEGATIVE_INFINITY for an embedding of another dimension so sorts put it last. */
  static double cosine(float[] x, double xNorm, List<Float> y) {
    double c = Vectors.cosine(x, xNorm, y);
    return Double.isNaN(c) ? Double.NEGATIVE_INFINITY : c;
  }

  static double cosine(float[] x, float[] y) {
    double c = Vectors.cosine(x, y);
    return Double.isNaN(c) ? Double.NEGATIVE_INFINITY : c;
  }
}
