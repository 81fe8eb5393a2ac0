package io.marginal.model.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.Transformer;
import java.util.List;

/**
 * Log-probabilities of continuations in one batched forward pass, as an NDArray that autograd
 * can differentiate (use it inside a GradientCollector for SFT, gradient-ascent or NPO losses).
 *
 * <p>Sequences are right-padded; with causal attention a real token never sees the padding, so
 * no attention mask is needed. Only the scored positions go through the output head.
 */
public final class SequenceScorer {
  private final Transformer transformer;

  public SequenceScorer(Transformer transformer) {
    this.transformer = transformer;
  }

  /**
   * @return {@code [N]} summed log-probabilities of each continuation, in {@code manager}
   */
  public NDArray logProbs(NDManager manager, List<Continuation> items, ForwardOptions options) {
    int n = items.size();
    int length = items.stream().mapToInt(Continuation::length).max().orElse(1);
    int[] tokens = new int[n * length];
    int scored = items.stream().mapToInt(c -> c.continuation().length).sum();
    long[] positions = new long[scored];
    int[] targets = new int[scored];
    float[] membership = new float[n * Math.max(1, scored)];
    int k = 0;
    for (int i = 0; i < n; i++) {
      Continuation c = items.get(i);
      System.arraycopy(c.prompt(), 0, tokens, i * length, c.prompt().length);
      System.arraycopy(c.continuation(), 0, tokens, i * length + c.prompt().length, c.continuation().length);
      for (int j = 0; j < c.continuation().length; j++) {
        positions[k] = (long) i * length + c.prompt().length + j - 1; // the position that predicts it
        targets[k] = c.continuation()[j];
        membership[i * scored + k] = 1f;
        k++;
      }
    }
    if (scored == 0) {
      return manager.zeros(new Shape(n));
    }
    NDArray input = manager.create(tokens, new Shape(n, length));
    NDArray hidden = transformer.forward(input, 0, null, options);
    long h = hidden.getShape().get(2);
    NDArray picked = hidden.reshape((long) n * length, h).get(manager.create(positions));
    NDArray logp = transformer.logits(picked).logSoftmax(-1);
    NDArray tokenLogp = logp.gather(manager.create(targets).reshape(scored, 1).toType(ai.djl.ndarray.types.DataType.INT64, false), 1)
        .reshape(scored);
    return manager.create(membership, new Shape(n, scored)).matMul(tokenLogp);
  }
}
