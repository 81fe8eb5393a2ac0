package io.marginal.model.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.marginal.model.lora.LoraAdapter;
import java.util.List;

/**
 * One optimisation step over the LoRA parameters of some adapters, and nothing else: base weights
 * never require gradients and are not given to the optimizer, so they cannot change.
 *
 * <pre>{@code
 * adapter.setTrainable(true);
 * try (LoraTrainingStep trainer = LoraTrainingStep.adam(model.manager(), List.of(adapter), 1e-3f)) {
 *   for (...) {
 *     float loss = trainer.step(step -> model.sequenceLogProbs(step, batch,
 *         new ForwardOptions(ActiveAdapters.of(adapter), true, ModuleHook.NONE)).mean().neg());
 *   }
 * }
 * adapter.setTrainable(false);
 * }</pre>
 */
public final class LoraTrainingStep implements AutoCloseable {
  private final NDManager parent;
  private final List<LoraAdapter> adapters;
  private final AdamOptimizer optimizer;
  private double maxGradientNorm = Double.POSITIVE_INFINITY;

  public LoraTrainingStep(NDManager parent, List<LoraAdapter> adapters, AdamOptimizer optimizer) {
    this.parent = parent;
    this.adapters = List.copyOf(adapters);
    this.optimizer = optimizer;
  }

  /** Adam over all A and B matrices of {@code adapters}; marks them trainable. */
  public static LoraTrainingStep adam(NDManager parent, List<LoraAdapter> adapters, float learningRate) {
    adapters.forEach(a -> a.setTrainable(true));
    List<NDArray> params = adapters.stream().flatMap(a -> a.parameters().stream()).toList();
    return new LoraTrainingStep(parent, adapters, AdamOptimizer.adam(params, learningRate));
  }

  public LoraTrainingStep withGradientClipping(double maxNorm) {
    this.maxGradientNorm = maxNorm;
    return this;
  }

  public AdamOptimizer optimizer() {
    return optimizer;
  }

  /** Computes the loss, back-propagates, updates, zeroes gradients; returns the loss value. */
  public float step(LossFunction loss) {
    try (NDManager step = parent.newSubManager(); GradientCollector collector = TrainingLock.gradientCollector()) {
      NDArray value = loss.compute(step);
      collector.backward(value);
      float result = value.getFloat();
      if (Double.isFinite(maxGradientNorm)) {
        optimizer.clipGradients(maxGradientNorm);
      }
      optimizer.step();
      adapters.forEach(LoraAdapter::contentChanged);
      return result;
    }
  }

  @Override
  public void close() {
    optimizer.close();
  }
}
