package io.marginal.trainer.unlearning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.probe.GradientProbe;
import io.marginal.model.probe.NeuronScores;
import io.marginal.model.probe.ProbeKey;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.training.TrainingLock;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.HookPoint;
import io.marginal.model.weights.Projection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Activation-guided neuron masks (AG-Masked-LoRA steps 1–3). For every targeted projection of
 * every layer, each output neuron {@code j} gets
 * <ul>
 *   <li>saliency {@code S_j = Σ_tokens |a_j · ∂L/∂a_j|} and diagonal Fisher {@code F_j = Σ_tokens (∂L/∂a_j)²},
 *       on the forget loss (NLL of the forget targets) and, separately, on the retain loss,
 *       each divided by its token count;</li>
 *   <li>a forget score {@code f_j = ½·S_j/mean(S) + ½·F_j/mean(F)} (so the two measures weigh the
 *       same whatever their scale) and the same retain score {@code r_j};</li>
 *   <li>the ratio {@code f_j / (r_j + ε)}: high for neurons that matter to the forget set and not
 *       to the retain set.</li>
 * </ul>
 * The mask keeps the top {@code k} fraction of neurons by ratio per (layer, projection), or every
 * neuron whose ratio reaches a threshold (at least one).
 */
public final class NeuronMaskBuilder {

  /** ε relative to the mean retain score (which is 1 after normalisation). */
  static final double EPSILON = 0.1;
  private static final int CHUNK = 16;

  private final double topFraction;
  private final double threshold;

  public NeuronMaskBuilder(double topFraction, double threshold) {
    this.topFraction = topFraction;
    this.threshold = threshold;
  }

  /** Per-neuron forget and retain scores of one module, and the resulting mask. */
  public record ModuleMask(LoraTarget target, double[] forgetScore, double[] retainScore, double[] ratio, boolean[] mask) {
    public int kept() {
      int n = 0;
      for (boolean b : mask) {
        n += b ? 1 : 0;
      }
      return n;
    }
  }

  /** Probes the model (with {@code current} adapters applied) and builds a mask per targeted module. */
  public Map<LoraTarget, ModuleMask> build(LanguageModel model, ActiveAdapters current, Set<Projection> targets,
                                           List<Continuation> forget, List<Continuation> retain) {
    Set<HookPoint> points = EnumSet.noneOf(HookPoint.class);
    targets.forEach(p -> points.add(HookPoint.of(p)));
    Map<ProbeKey, double[][]> f = scores(model, current, points, forget);
    Map<ProbeKey, double[][]> r = scores(model, current, points, retain);
    Map<LoraTarget, ModuleMask> out = new TreeMap<>();
    for (Map.Entry<ProbeKey, double[][]> e : f.entrySet()) {
      ProbeKey key = e.getKey();
      double[][] rs = r.get(key);
      if (rs == null) {
        continue;
      }
      Projection p = Projection.values()[key.point().ordinal()];
      out.put(new LoraTarget(key.layer(), p), mask(new LoraTarget(key.layer(), p), e.getValue(), rs));
    }
    return out;
  }

  /** The mask of one module from its (saliency, Fisher) sums on the forget and retain losses. */
  ModuleMask mask(LoraTarget target, double[][] forget, double[][] retain) {
    double[] fs = combined(forget[0], forget[1]);
    double[] rs = combined(retain[0], retain[1]);
    double[] ratio = new double[fs.length];
    for (int j = 0; j < fs.length; j++) {
      ratio[j] = fs[j] / (rs[j] + EPSILON);
    }
    return new ModuleMask(target, fs, rs, ratio, select(ratio));
  }

  /** Top-k (or threshold) selection on the ratio. */
  boolean[] select(double[] ratio) {
    boolean[] mask = new boolean[ratio.length];
    if (threshold > 0) {
      int best = 0;
      boolean any = false;
      for (int j = 0; j < ratio.length; j++) {
        mask[j] = ratio[j] >= threshold;
        any |= mask[j];
        if (ratio[j] > ratio[best]) {
          best = j;
        }
      }
      if (!any) {
        mask[best] = true;
      }
      return mask;
    }
    int k = Math.max(1, (int) Math.round(topFraction * ratio.length));
    Integer[] order = new Integer[ratio.length];
    for (int j = 0; j < order.length; j++) {
      order[j] = j;
    }
    Arrays.sort(order, (a, b) -> ratio[b] != ratio[a] ? Double.compare(ratio[b], ratio[a]) : Integer.compare(a, b));
    for (int i = 0; i < k; i++) {
      mask[order[i]] = true;
    }
    return mask;
  }

  /** ½·S/mean(S) + ½·F/mean(F). */
  static double[] combined(double[] saliency, double[] fisher) {
    double ms = mean(saliency);
    double mf = mean(fisher);
    double[] out = new double[saliency.length];
    for (int j = 0; j < out.length; j++) {
      out[j] = 0.5 * (ms > 0 ? saliency[j] / ms : 0) + 0.5 * (mf > 0 ? fisher[j] / mf : 0);
    }
    return out;
  }

  private static double mean(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return x.length == 0 ? 0 : s / x.length;
  }

  /** Per-token saliency and Fisher of the NLL of {@code sequences}, per (layer, point): {@code [2][width]}. */
  static Map<ProbeKey, double[][]> scores(LanguageModel model, ActiveAdapters current, Set<HookPoint> points,
                                          List<Continuation> sequences) {
    Map<ProbeKey, double[][]> sums = new HashMap<>();
    long tokens = 0;
    for (int from = 0; from < sequences.size(); from += CHUNK) {
      List<Continuation> chunk = sequences.subList(from, Math.min(sequences.size(), from + CHUNK));
      int chunkTokens = chunk.stream().mapToInt(c -> c.continuation().length).sum();
      if (chunkTokens == 0) {
        continue;
      }
      tokens += chunkTokens;
      GradientProbe probe = new GradientProbe(points);
      Map<ProbeKey, NeuronScores> collected;
      try (NDManager step = model.manager().newSubManager(); GradientCollector gc = TrainingLock.gradientCollector()) {
        NDArray nll = model.sequenceLogProbs(step, new ArrayList<>(chunk), new ForwardOptions(current, false, probe)).sum().neg();
        gc.backward(nll);
        collected = probe.collect();
      }
      collected.forEach((key, s) -> {
        double[][] acc = sums.computeIfAbsent(key, k -> new double[2][s.saliency().length]);
        for (int j = 0; j < s.saliency().length; j++) {
          acc[0][j] += s.saliency()[j];
          acc[1][j] += s.fisher()[j];
        }
      });
    }
    long n = Math.max(1, tokens);
    sums.values().forEach(acc -> {
      for (double[] row : acc) {
        for (int j = 0; j < row.length; j++) {
          row[j] /= n;
        }
      }
    });
    Map<ProbeKey, double[][]> out = new TreeMap<>(Comparator.comparingInt(ProbeKey::layer).thenComparing(ProbeKey::point));
    out.putAll(sums);
    return out;
  }
}
