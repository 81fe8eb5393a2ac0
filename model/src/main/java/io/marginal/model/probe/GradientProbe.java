package io.marginal.model.probe;

import ai.djl.ndarray.NDArray;
import io.marginal.model.transformer.HookPoint;
import io.marginal.model.transformer.ModuleHook;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link ModuleHook} for gradient saliency and diagonal Fisher scores of module outputs.
 *
 * <p>Autograd only keeps gradients of leaves, so at each chosen point the output is replaced by
 * {@code output + z} where {@code z} is a zero leaf that requires a gradient; after
 * {@code backward(loss)}, {@code z}'s gradient is {@code ∂loss/∂output}. Use it for one step:
 *
 * <pre>{@code
 * try (NDManager step = model.manager().newSubManager(); var gc = TrainingLock.gradientCollector()) {
 *   GradientProbe probe = new GradientProbe(Set.of(HookPoint.MLP_ACTIVATION));
 *   NDArray loss = ... model.sequenceLogProbs(step, batch, new ForwardOptions(adapters, false, probe)) ...;
 *   gc.backward(loss);
 *   scores = probe.collect();   // before the step manager closes
 * }
 * }</pre>
 * Padding positions, if any, contribute zero gradient and their (small) activations.
 */
public final class GradientProbe implements ModuleHook {
  private final Set<HookPoint> points;
  private final List<Entry> entries = new ArrayList<>();

  private record Entry(ProbeKey key, NDArray activation, NDArray leaf) {}

  public GradientProbe(Set<HookPoint> points) {
    this.points = EnumSet.copyOf(points);
  }

  @Override
  public NDArray onOutput(int layer, HookPoint point, NDArray output) {
    if (!points.contains(point)) {
      return output;
    }
    NDArray leaf = output.zerosLike();
    leaf.setRequiresGradient(true);
    entries.add(new Entry(new ProbeKey(layer, point), output.stopGradient(), leaf));
    return output.add(leaf);
  }

  /** Reduces activations and gradients to per-neuron scores; call after backward. */
  public Map<ProbeKey, NeuronScores> collect() {
    Map<ProbeKey, double[][]> acc = new HashMap<>();
    Map<ProbeKey, Long> counts = new HashMap<>();
    for (Entry e : entries) {
      long width = e.activation().getShape().get(e.activation().getShape().dimension() - 1);
      long tokens = e.activation().getShape().size() / width;
      float[][] rows = new float[4][];
      try (NDArray g = e.leaf().getGradient();
          NDArray a = e.activation().reshape(tokens, width);
          NDArray gr = g.reshape(tokens, width);
          NDArray abs = a.abs().sum(new int[] {0});
          NDArray sq = a.square().sum(new int[] {0});
          NDArray sal = a.mul(gr).abs().sum(new int[] {0});
          NDArray fisher = gr.square().sum(new int[] {0})) {
        rows[0] = abs.toFloatArray();
        rows[1] = sq.toFloatArray();
        rows[2] = sal.toFloatArray();
        rows[3] = fisher.toFloatArray();
      }
      double[][] sums = acc.computeIfAbsent(e.key(), k -> new double[4][(int) width]);
      for (int r = 0; r < 4; r++) {
        for (int i = 0; i < width; i++) {
          sums[r][i] += rows[r][i];
        }
      }
      counts.merge(e.key(), tokens, Long::sum);
    }
    Map<ProbeKey, NeuronScores> out = new TreeMap<>(Comparator.comparingInt(ProbeKey::layer).thenComparing(ProbeKey::point));
    acc.forEach((key, sums) -> {
      long n = counts.get(key);
      int w = sums[0].length;
      float[] abs = new float[w];
      float[] sq = new float[w];
      float[] sal = new float[w];
      float[] fisher = new float[w];
      for (int i = 0; i < w; i++) {
        abs[i] = (float) (sums[0][i] / n);
        sq[i] = (float) (sums[1][i] / n);
        sal[i] = (float) sums[2][i];
        fisher[i] = (float) sums[3][i];
      }
      out.put(key, new NeuronScores(abs, sq, sal, fisher, n));
    });
    return out;
  }
}
