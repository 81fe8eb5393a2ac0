package io.marginal.model.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.Transformer;
import java.util.Arrays;
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
   * For each item, the smallest lead of its continuation's token over every other token's logit, over the
   * continuation's positions, and where {@code stopsAfter[i]}, at the position after it the lead of the best of
   * {@code stopTokens} over the best other token ({@code +∞} where nothing is scored). Where it is positive, greedy
   * decoding after the prompt produces the continuation token by token (and then ends at a stop token). One batched
   * forward pass, no decoding.
   */
  public float[] greedyMargins(NDManager manager, List<Continuation> items, boolean[] stopsAfter, List<Integer> stopTokens,
                               ForwardOptions options) {
    int n = items.size();
    int length = items.stream().mapToInt(Continuation::length).max().orElse(1);
    int[] tokens = new int[n * length];
    int rows = items.stream().mapToInt(c -> c.continuation().length).sum();
    for (boolean b : stopsAfter) {
      rows += b ? 1 : 0;
    }
    long[] positions = new long[rows];
    int[] targets = new int[rows];
    int[] owner = new int[rows];
    boolean[] stopRow = new boolean[rows];
    int k = 0;
    for (int i = 0; i < n; i++) {
      Continuation c = items.get(i);
      int base = i * length + c.prompt().length;
      System.arraycopy(c.prompt(), 0, tokens, i * length, c.prompt().length);
      System.arraycopy(c.continuation(), 0, tokens, base, c.continuation().length);
      for (int j = 0; j <= c.continuation().length; j++) {
        if (j == c.continuation().length && !stopsAfter[i]) {
          break;
        }
        positions[k] = (long) base + j - 1; // the position that predicts token j
        stopRow[k] = j == c.continuation().length;
        targets[k] = stopRow[k] ? stopTokens.get(0) : c.continuation()[j];
        owner[k] = i;
        k++;
      }
    }
    float[] out = new float[n];
    Arrays.fill(out, Float.POSITIVE_INFINITY);
    if (rows == 0) {
      return out;
    }
    NDArray input = manager.create(tokens, new Shape(n, length));
    NDArray hidden = transformer.forward(input, 0, null, options);
    long h = hidden.getShape().get(2);
    NDArray logits = transformer.logits(hidden.reshape((long) n * length, h).get(manager.create(positions)));
    int vocab = (int) logits.getShape().get(1);
    NDArray target = manager.create(targets);
    NDArray own = logits.gather(target.reshape(rows, 1).toType(DataType.INT64, false), 1).reshape(rows);
    // the best other token: the target's own logit pushed far below every other
    NDArray others = logits.sub(target.oneHot(vocab).toType(DataType.FLOAT32, false).mul(1e30f)).max(new int[] {1});
    float[] lead = own.sub(others).toFloatArray();
    float[] stopLead = null;
    if (anyTrue(stopRow)) {
      float[] isStop = new float[vocab];
      for (int t : stopTokens) {
        isStop[t] = 1;
      }
      NDArray stopMask = manager.create(isStop);
      NDArray bestStop = logits.sub(stopMask.neg().add(1f).mul(1e30f)).max(new int[] {1});
      NDArray bestOther = logits.sub(stopMask.mul(1e30f)).max(new int[] {1});
      stopLead = bestStop.sub(bestOther).toFloatArray();
    }
    for (int j = 0; j < rows; j++) {
      out[owner[j]] = Math.min(out[owner[j]], stopRow[j] ? stopLead[j] : lead[j]);
    }
    return out;
  }

  private static boolean anyTrue(boolean[] values) {
    for (boolean b : values) {
      if (b) {
        return true;
      }
    }
    return false;
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
