package io.marginal.trainer.unlearning;

import io.marginal.personalization.cm.Vectors;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.training.Gradients;
import io.marginal.model.training.Scalars;
import io.marginal.model.training.TrainingLock;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.ModuleHook;
import io.marginal.model.transformer.NoGradScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Which negatives to unlearn, and how hard — after <i>Unlearning to Align</i> (U2A; Feng et al.,
 * "Bridging the Gap Between Preference Alignment and Machine Unlearning", arXiv:2504.06659, 2025).
 * U2A shows that unlearning different negative examples helps the alignment objective by very
 * different amounts, and chooses per-example weights by bi-level optimisation, whose implicit
 * gradient reduces to inner products between per-example unlearning gradients and the gradient
 * of the objective to preserve.
 *
 * <p>Our operationalisation is the first-order, one-step version of that, with the retain loss
 * as the objective to preserve: an ascent step of size η on forget example {@code i} (along
 * {@code +∇NLL_i}) changes the retain NLL by about {@code η·⟨∇NLL_i, ∇NLL_R⟩}. So:
 * <ul>
 *   <li>alignment {@code c_i = cos(∇_θ NLL_i, ∇_θ NLL_R)}: ascent on {@code i} moves along
 *       {@code +∇NLL_i}, which raises the retain NLL when {@code c_i > 0} (the example shares what
 *       must be kept) and lowers it when {@code c_i < 0};</li>
 *   <li>relevance: an example whose target is already below the ascent floor contributes nothing
 *       to forgetting any more (weight 0) — not all negatives help;</li>
 *   <li>weight {@code w_i = r_i · 2σ(−κ·c_i)}, with {@code r_i} the request's own weight, then
 *       rescaled so the weights of the still-relevant examples average 1 and clipped to [0.1, 3].</li>
 * </ul>
 * κ = 0 turns the alignment term off (every relevant example gets its request weight).
 */
public final class U2aWeighting {

  static final double MIN_WEIGHT = 0.1;
  static final double MAX_WEIGHT = 3.0;

  private final double kappa;
  private final double floor;

  public U2aWeighting(double kappa, double floor) {
    this.kappa = kappa;
    this.floor = floor;
  }

  /**
   * @param cosines         {@code c_i}, cosine between example {@code i}'s forget NLL gradient and the retain NLL gradient
   * @param requestWeights  {@code r_i}
   * @param tokenLogProbs   current mean per-token log-probability of each target
   */
  public double[] weights(double[] cosines, double[] requestWeights, double[] tokenLogProbs) {
    int n = cosines.length;
    double[] w = new double[n];
    double sum = 0;
    int relevant = 0;
    for (int i = 0; i < n; i++) {
      if (tokenLogProbs[i] < floor) {
        continue;
      }
      w[i] = requestWeights[i] * 2 / (1 + Math.exp(kappa * cosines[i]));
      sum += w[i];
      relevant++;
    }
    if (relevant == 0 || sum <= 0) {
      return w;
    }
    double scale = relevant / sum;
    for (int i = 0; i < n; i++) {
      if (tokenLogProbs[i] >= floor) {
        w[i] = Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, w[i] * scale));
      }
    }
    return w;
  }

  /**
   * Cosines between each forget sequence's NLL gradient and the retain set's NLL gradient, with
   * respect to {@code adapter}'s parameters (masked where it has masks), with {@code stack} applied.
   */
  public static double[] gradientCosines(LanguageModel model, ActiveAdapters stack, LoraAdapter adapter,
                                         List<Continuation> forget, List<Continuation> retain) {
    adapter.setTrainable(true);
    float[] retainGradient = gradient(model, stack, adapter, retain);
    double[] out = new double[forget.size()];
    for (int i = 0; i < forget.size(); i++) {
      out[i] = Vectors.cosine(gradient(model, stack, adapter, List.of(forget.get(i))), retainGradient);
    }
    return out;
  }

  /** The flattened gradient of the mean per-token NLL of {@code sequences}; leaves gradients zeroed. */
  static float[] gradient(LanguageModel model, ActiveAdapters stack, LoraAdapter adapter, List<Continuation> sequences) {
    int tokens = Math.max(1, sequences.stream().mapToInt(c -> c.continuation().length).sum());
    try (NDManager step = model.manager().newSubManager(); GradientCollector gc = TrainingLock.gradientCollector()) {
      NDArray nll = Scalars.div(model.sequenceLogProbs(step, new ArrayList<>(sequences), new ForwardOptions(stack, false, ModuleHook.NONE))
          .sum().neg(), tokens);
      gc.backward(nll);
      List<float[]> parts = new ArrayList<>();
      int total = 0;
      try (NoGradScope noGrad = NoGradScope.open()) {
        for (NDArray p : adapter.parameters()) {
          try (NDArray g = p.getGradient()) {
            float[] v = g.toFloatArray();
            parts.add(v);
            total += v.length;
            Gradients.clear(g);
          }
        }
      }
      float[] flat = new float[total];
      int k = 0;
      for (float[] v : parts) {
        System.arraycopy(v, 0, flat, k, v.length);
        k += v.length;
      }
      return flat;
    }
  }
}
