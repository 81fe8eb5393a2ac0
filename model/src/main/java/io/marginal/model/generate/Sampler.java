package io.marginal.model.generate;

import java.util.Arrays;
import java.util.Random;

/**
 * Picks the next token from logits: greedy (argmax) at temperature 0, otherwise softmax at the
 * temperature restricted to the top-p nucleus, drawn from a seeded {@link Random}. One sampler
 * per request (not thread-safe).
 */
public final class Sampler {
  private final double temperature;
  private final double topP;
  private final Random random;

  public Sampler(double temperature, double topP, long seed) {
    this.temperature = temperature;
    this.topP = topP;
    this.random = new Random(seed);
  }

  public static Sampler of(GenerationRequest request) {
    return new Sampler(request.temperature(), request.topP(), request.seed());
  }

  public int sample(float[] logits) {
    if (temperature <= 0) {
      return argmax(logits);
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      p[i] = Math.exp((logits[i] - max) / temperature);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    int[] candidates = nucleus(p);
    double mass = 0;
    for (int c : candidates) {
      mass += p[c];
    }
    double r = random.nextDouble() * mass;
    double acc = 0;
    for (int c : candidates) {
      acc += p[c];
      if (r < acc) {
        return c;
      }
    }
    return candidates[candidates.length - 1];
  }

  /** Smallest set of most probable tokens whose mass reaches top-p, most probable first. */
  int[] nucleus(double[] p) {
    if (topP >= 1) {
      int[] all = new int[p.length];
      Arrays.setAll(all, i -> i);
      return all;
    }
    // Sort (probability, index) pairs packed into longs: float bits of a non-negative float
    // order like the floats, so a primitive sort does it without boxing.
    long[] packed = new long[p.length];
    int n = 0;
    for (int i = 0; i < p.length; i++) {
      if (p[i] > 1e-12) {
        packed[n++] = ((long) Float.floatToIntBits((float) p[i]) << 32) | i;
      }
    }
    long[] sorted = Arrays.copyOf(packed, n);
    Arrays.sort(sorted);
    int[] out = new int[n];
    double acc = 0;
    int k = 0;
    for (int j = n - 1; j >= 0; j--) {
      int index = (int) (sorted[j] & 0xFFFFFFFFL);
      out[k++] = index;
      acc += p[index];
      if (acc >= topP) {
        break;
      }
    }
    return Arrays.copyOf(out, Math.max(1, k));
  }

  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
