package io.marginal.trainer.unlearning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.training.AdamOptimizer;
import io.marginal.model.training.Gradients;
import io.marginal.model.training.LossFunction;
import io.marginal.model.training.Scalars;
import io.marginal.model.training.TrainingLock;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.ModuleHook;
import io.marginal.model.transformer.NoGradScope;
import io.marginal.trainer.job.ProgressListener;
import io.marginal.trainer.unlearning.RetainSet.RetainExample;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optimisation loop (AG-Masked-LoRA step 4): Adam on the adapter's A and B only (its masks
 * confine the update to the selected neurons), minimising
 * <pre>  L = forgetObjective(forget batch, U2A weights) + λ · mean_j w_j · NLL_j/|y_j|  (retain batch)</pre>
 * Every {@code evalEvery} steps it asks {@code forgotten} whether the concept is gone from the
 * training probes, and stops there: further steps only cost utility.
 */
final class MaskedLoraTrainer {

  /** What the loop did. */
  record Result(int steps, double finalLoss, long millis, boolean stoppedEarly, int nonFiniteRetries) {}

  /** Retries of one step whose gradients came out non-finite before the job gives up. */
  private static final int MAX_RETRIES = 5;

  private static final Logger LOG = LoggerFactory.getLogger(MaskedLoraTrainer.class);
  private static final double MAX_GRADIENT_NORM = 1.0;

  private MaskedLoraTrainer() {
  }

  static Result train(LanguageModel model, LoraAdapter adapter, ForgetObjective objective, List<ForgetTarget> forget,
                      double[] weights, float[] reference, List<RetainExample> retain, UnlearningSettings s,
                      BooleanSupplier forgotten, ProgressListener progress) {
    Random random = new Random(s.seed());
    List<Integer> active = new ArrayList<>();
    for (int i = 0; i < forget.size(); i++) {
      if (weights[i] > 0) {
        active.add(i);
      }
    }
    long start = System.nanoTime();
    double last = Double.NaN;
    int step = 0;
    boolean early = false;
    ActiveAdapters stack = ActiveAdapters.of(adapter);
    int retries = 0;
    int consecutive = 0;
    adapter.setTrainable(true);
    try (AdamOptimizer optimizer = AdamOptimizer.adam(adapter.parameters(), (float) s.learningRate())) {
      while (step < s.maxSteps()) {
        List<Integer> fb = sample(active, s.forgetBatch(), random);
        List<RetainExample> rb = sample(retain, s.retainBatch(), random);
        LossFunction lossFunction = m -> {
          NDArray total = null;
          if (!fb.isEmpty()) {
            List<Continuation> seqs = new ArrayList<>();
            float[] lengths = new float[fb.size()];
            float[] w = new float[fb.size()];
            float[] ref = reference == null ? null : new float[fb.size()];
            for (int k = 0; k < fb.size(); k++) {
              int i = fb.get(k);
              Continuation c = objective.sequence(forget.get(i));
              seqs.add(c);
              lengths[k] = Math.max(1, c.continuation().length);
              w[k] = (float) weights[i];
              if (ref != null) {
                ref[k] = reference[i];
              }
            }
            NDArray lp = model.sequenceLogProbs(m, seqs, new ForwardOptions(stack, true, ModuleHook.NONE));
            total = objective.loss(lp, lengths, w, ref);
          }
          if (!rb.isEmpty() && s.retainWeight() > 0) {
            List<Continuation> seqs = new ArrayList<>();
            float[] lengths = new float[rb.size()];
            float[] w = new float[rb.size()];
            for (int k = 0; k < rb.size(); k++) {
              seqs.add(rb.get(k).sequence());
              lengths[k] = Math.max(1, rb.get(k).length());
              w[k] = (float) rb.get(k).weight();
            }
            NDArray lp = model.sequenceLogProbs(m, seqs, new ForwardOptions(stack, true, ModuleHook.NONE));
            NDArray r = Scalars.mul(lp.div(m.create(lengths)).neg().mul(m.create(w)).mean(), (float) s.retainWeight());
            total = total == null ? r : total.add(r);
          }
          return total == null ? m.zeros(new ai.djl.ndarray.types.Shape()) : total;
        };
        float loss;
        try (NDManager m = model.manager().newSubManager(); GradientCollector collector = TrainingLock.gradientCollector()) {
          NDArray value = lossFunction.compute(m);
          collector.backward(value);
          loss = value.getFloat();
          double norm = optimizer.gradientNorm();
          if (!Float.isFinite(loss) || !Double.isFinite(norm)) {
            // Safety net. The NaN gradients once seen here came from DJL scalar ops whose operand the
            // GC freed before backward (fixed: see model/training/Scalars). Should a step still come
            // out non-finite, compute it again; if it keeps happening, zero the non-finite entries and
            // go on, rather than poison Adam's moments or give up on the request.
            retries++;
            if (!Float.isFinite(loss) || ++consecutive > MAX_RETRIES) {
              optimizer.zeroGradients();
              throw new IllegalStateException("training diverged at step " + (step + 1) + ": loss " + loss + ", gradient norm " + norm);
            }
            if (consecutive <= 1) {
              optimizer.zeroGradients();
              LOG.warn("step {}: non-finite gradients (loss {}); recomputing the step", step + 1, loss);
              continue;
            }
            norm = sanitizeGradients(adapter);
            LOG.warn("step {}: non-finite gradients again; zeroed the non-finite entries (norm now {})", step + 1, norm);
          }
          if (norm > MAX_GRADIENT_NORM) {
            optimizer.clipGradients(MAX_GRADIENT_NORM);
          }
          optimizer.step();
          adapter.contentChanged();
          consecutive = 0;
        }
        step++;
        last = loss;
        progress.step(step, s.maxSteps(), loss, (System.nanoTime() - start) / 1_000_000);
        if (step % s.evalEvery() == 0 && step < s.maxSteps() && forgotten.getAsBoolean()) {
          early = true;
          break;
        }
      }
    } finally {
      adapter.setTrainable(false);
    }
    return new Result(step, last, (System.nanoTime() - start) / 1_000_000, early, retries);
  }

  /** Replaces non-finite gradient entries by 0; returns the new global norm. */
  private static double sanitizeGradients(LoraAdapter adapter) {
    double sum = 0;
    try (NoGradScope noGrad = NoGradScope.open()) {
      for (NDArray p : adapter.parameters()) {
        try (NDArray g = p.getGradient()) {
          sum += Gradients.zeroNonFinite(g);
        }
      }
    }
    return Math.sqrt(sum);
  }

  private static <T> List<T> sample(List<T> from, int n, Random random) {
    if (from.size() <= n) {
      return from;
    }
    List<T> copy = new ArrayList<>(from);
    java.util.Collections.shuffle(copy, random);
    return copy.subList(0, n);
  }
}
