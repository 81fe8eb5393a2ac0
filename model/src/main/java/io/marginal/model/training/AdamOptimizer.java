package io.marginal.model.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.transformer.NoGradScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam (with optional decoupled weight decay, i.e. AdamW) over an explicit list of parameters,
 * nothing else: the parameters it is given are the only arrays it ever changes.
 *
 * <pre>
 *   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²
 *   p -= lr · (m/(1-β1ᵗ)) / (sqrt(v/(1-β2ᵗ)) + ε) + lr·wd·p
 * </pre>
 *
 * Gradients accumulate across backward passes in PyTorch; {@link #step} zeroes them after use.
 */
public final class AdamOptimizer implements AutoCloseable {
  private final List<NDArray> parameters;
  private final NDManager state;
  private final List<NDArray> m = new ArrayList<>();
  private final List<NDArray> v = new ArrayList<>();
  private final float beta1;
  private final float beta2;
  private final float epsilon;
  private final float weightDecay;
  private float learningRate;
  private int steps;

  public AdamOptimizer(List<NDArray> parameters, float learningRate, float beta1, float beta2, float epsilon, float weightDecay) {
    if (parameters.isEmpty()) {
      throw new IllegalArgumentException("no parameters to optimize");
    }
    this.parameters = List.copyOf(parameters);
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    this.state = parameters.get(0).getManager().newSubManager();
    for (NDArray p : parameters) {
      m.add(state.zeros(p.getShape(), p.getDataType()));
      v.add(state.zeros(p.getShape(), p.getDataType()));
    }
  }

  /** Adam with β=(0.9, 0.999), ε=1e-8, no weight decay. */
  public static AdamOptimizer adam(List<NDArray> parameters, float learningRate) {
    return new AdamOptimizer(parameters, learningRate, 0.9f, 0.999f, 1e-8f, 0f);
  }

  public void setLearningRate(float learningRate) {
    this.learningRate = learningRate;
  }

  public float learningRate() {
    return learningRate;
  }

  public int steps() {
    return steps;
  }

  /** Applies one update from the parameters' current gradients, then zeroes them. */
  public void step() {
    steps++;
    float c1 = (float) (1 - Math.pow(beta1, steps));
    float c2 = (float) (1 - Math.pow(beta2, steps));
    try (NoGradScope noGrad = NoGradScope.open(); NDManager tmp = state.newSubManager()) {
      for (int i = 0; i < parameters.size(); i++) {
        NDArray p = parameters.get(i);
        NDArray g = p.getGradient();
        g.attach(tmp);
        m.get(i).muli(beta1).addi(g.mul(1 - beta1));
        v.get(i).muli(beta2).addi(g.square().muli(1 - beta2));
        // Ops put their result in the first operand's manager; start every temporary from the
        // gradient (owned by tmp) so nothing lands in the state's or the parameter's manager.
        NDArray mHat = g.zerosLike().addi(m.get(i)).divi(c1);
        NDArray vHat = g.zerosLike().addi(v.get(i)).divi(c2);
        NDArray update = mHat.divi(vHat.sqrt().addi(epsilon)).muli(learningRate);
        if (weightDecay > 0) {
          update.addi(g.zerosLike().addi(p).muli(learningRate * weightDecay));
        }
        p.subi(update);
        Gradients.clear(g);
      }
    }
  }

  /** Sets every parameter's gradient to zero (PyTorch adds each backward pass to it). */
  public void zeroGradients() {
    try (NoGradScope noGrad = NoGradScope.open()) {
      for (NDArray p : parameters) {
        try (NDArray g = p.getGradient()) {
          Gradients.clear(g);
        }
      }
    }
  }

  /** Global L2 norm of the current gradients. */
  public double gradientNorm() {
    double sum = 0;
    try (NoGradScope noGrad = NoGradScope.open(); NDManager tmp = state.newSubManager()) {
      for (NDArray p : parameters) {
        NDArray g = p.getGradient();
        g.attach(tmp);
        sum += g.square().sum().getFloat();
      }
    }
    return Math.sqrt(sum);
  }

  /** Scales gradients so their global norm is at most {@code maxNorm}; returns the norm before. */
  public double clipGradients(double maxNorm) {
    double norm = gradientNorm();
    if (norm > maxNorm && norm > 0) {
      float scale = (float) (maxNorm / norm);
      try (NoGradScope noGrad = NoGradScope.open()) {
        for (NDArray p : parameters) {
          try (NDArray g = p.getGradient()) {
            g.muli(scale);
          }
        }
      }
    }
    return norm;
  }

  @Override
  public void close() {
    state.close();
  }
}
