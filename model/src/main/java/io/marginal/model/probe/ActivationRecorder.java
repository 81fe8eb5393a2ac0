package io.marginal.model.probe;

import ai.djl.ndarray.NDArray;
import io.marginal.model.transformer.HookPoint;
import io.marginal.model.transformer.ModuleHook;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.Comparator;

/**
 * A {@link ModuleHook} that accumulates per-neuron activation statistics at chosen hook points
 * across any number of forward passes (e.g. the forget set, then separately the retain set).
 * Copies reduced statistics to Java arrays immediately, so it holds no NDArrays. Not thread-safe.
 */
public final class ActivationRecorder implements ModuleHook {
  private final Set<HookPoint> points;
  private final Map<ProbeKey, double[][]> sums = new TreeMap<>(
      Comparator.comparingInt(ProbeKey::layer).thenComparing(ProbeKey::point));
  private final Map<ProbeKey, Long> counts = new java.util.HashMap<>();

  public ActivationRecorder(Set<HookPoint> points) {
    this.points = EnumSet.copyOf(points);
  }

  @Override
  public NDArray onOutput(int layer, HookPoint point, NDArray output) {
    if (!points.contains(point)) {
      return output;
    }
    long width = output.getShape().get(output.getShape().dimension() - 1);
    long tokens = output.getShape().size() / width;
    float[] abs;
    float[] sq;
    try (NDArray flat = output.stopGradient().reshape(tokens, width);
        NDArray a = flat.abs().sum(new int[] {0});
        NDArray s = flat.square().sum(new int[] {0})) {
      abs = a.toFloatArray();
      sq = s.toFloatArray();
    }
    ProbeKey key = new ProbeKey(layer, point);
    double[][] acc = sums.computeIfAbsent(key, k -> new double[2][(int) width]);
    for (int i = 0; i < width; i++) {
      acc[0][i] += abs[i];
      acc[1][i] += sq[i];
    }
    counts.merge(key, tokens, Long::sum);
    return output;
  }

  /** Statistics so far, by (layer, point). */
  public Map<ProbeKey, NeuronScores> scores() {
    Map<ProbeKey, NeuronScores> out = new TreeMap<>(Comparator.comparingInt(ProbeKey::layer).thenComparing(ProbeKey::point));
    sums.forEach((key, acc) -> {
      long n = counts.get(key);
      float[] abs = new float[acc[0].length];
      float[] sq = new float[acc[0].length];
      for (int i = 0; i < abs.length; i++) {
        abs[i] = (float) (acc[0][i] / n);
        sq[i] = (float) (acc[1][i] / n);
      }
      out.put(key, new NeuronScores(abs, sq, new float[abs.length], new float[abs.length], n));
    });
    return out;
  }
}
