package io.marginal.model.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.marginal.model.config.ModelConfig;

/**
 * One layer's same-input projections stacked for inference ({@link ProjectionGroup}):
 * {@code qkv} is {@code [q+k+v, hidden]} with its bias (or {@code null}), {@code gateUp} is
 * {@code [2·ffn, hidden]}. On a decode step of a small batch the cost is per native operation, so
 * one product instead of three (two) is what matters, not the arithmetic.
 *
 * <p>{@link ModelWeights#load} builds these once and makes the layer's {@code wq, wk, wv, wGate,
 * wUp} (and biases) row views of them, so the stacked form costs no extra memory. Each group's
 * weight also comes as a transposed view {@code [in, out]} ({@link #transposed}, no copy): a
 * product with it is one matrix product, where {@code linear} would make the same view on every
 * call.
 */
public record FusedProjections(NDArray qkv, NDArray qkvBias, NDArray gateUp, NDArray wo, NDArray wDown, NDArray qkvT,
                               NDArray gateUpT, NDArray woT, NDArray wDownT) {

  /** The stacked weight of {@code g}, {@code [out, in]}. */
  public NDArray weight(ProjectionGroup g) {
    return switch (g) {
      case QKV -> qkv;
      case GATE_UP -> gateUp;
      case O -> wo;
      case DOWN -> wDown;
    };
  }

  /** The stacked weight of {@code g} transposed, {@code [in, out]}: a view. */
  public NDArray transposed(ProjectionGroup g) {
    return switch (g) {
      case QKV -> qkvT;
      case GATE_UP -> gateUpT;
      case O -> woT;
      case DOWN -> wDownT;
    };
  }

  /** The stacked bias of {@code g}, or {@code null}. */
  public NDArray bias(ProjectionGroup g, LayerWeights layer) {
    return switch (g) {
      case QKV -> qkvBias;
      case O -> layer.bo();
      default -> null;
    };
  }

  /** Stacked copies of {@code layer}'s projections, owned by {@code manager}. */
  public static FusedProjections copyOf(LayerWeights layer, NDManager manager) {
    NDArray qkv = stack(manager, layer.wq(), layer.wk(), layer.wv());
    NDArray bias = layer.bq() == null ? null : stack(manager, layer.bq(), layer.bk(), layer.bv());
    NDArray gateUp = stack(manager, layer.wGate(), layer.wUp());
    return new FusedProjections(qkv, bias, gateUp, layer.wo(), layer.wDown(), view(qkv.transpose(), manager),
        view(gateUp.transpose(), manager), view(layer.wo().transpose(), manager), view(layer.wDown().transpose(), manager));
  }

  /**
   * These projections with an update added to some groups' weights ({@code update} gives
   * {@code g}'s {@code [out, in]} update, or {@code null} to leave {@code g} as it is): the updated
   * groups are new arrays owned by {@code manager}, the others these very arrays (no copy). E.g. a
   * LoRA every request uses, merged in: {@code W + (Aᵀ·Bᵀ)ᵀ}. The biases stay.
   */
  public FusedProjections updated(java.util.function.Function<ProjectionGroup, NDArray> update, NDManager manager) {
    NDArray[] w = new NDArray[ProjectionGroup.values().length];
    NDArray[] t = new NDArray[w.length];
    for (ProjectionGroup g : ProjectionGroup.values()) {
      NDArray delta = update.apply(g);
      if (delta == null) {
        w[g.ordinal()] = weight(g);
        t[g.ordinal()] = transposed(g);
      } else {
        NDArray sum = weight(g).add(delta); // both [out, in] and contiguous: so is the sum, read as the original is
        sum.attach(manager);
        w[g.ordinal()] = sum;
        t[g.ordinal()] = view(sum.transpose(), manager);
      }
    }
    int qkvI = ProjectionGroup.QKV.ordinal();
    int guI = ProjectionGroup.GATE_UP.ordinal();
    int oI = ProjectionGroup.O.ordinal();
    int dI = ProjectionGroup.DOWN.ordinal();
    return new FusedProjections(w[qkvI], qkvBias, w[guI], w[oI], w[dI], t[qkvI], t[guI], t[oI], t[dI]);
  }

  /**
   * Stacks {@code layer}'s projections in {@code manager} and returns the layer with its q/k/v and
   * gate/up weights (and q/k/v biases) replaced by row views of the stacks; the replaced arrays are
   * closed. Row slices of a row-major {@code [out, in]} array are contiguous: the views read exactly
   * as the originals did.
   */
  static Fused fuse(LayerWeights layer, NDManager manager, ModelConfig c) {
    FusedProjections f = copyOf(layer, manager);
    NDArray[] qkv = rows(f.qkv, c.queryDim(), c.keyValueDim(), c.keyValueDim());
    NDArray[] gu = rows(f.gateUp, c.intermediateSize(), c.intermediateSize());
    NDArray[] b = f.qkvBias == null ? new NDArray[3] : rows(f.qkvBias, c.queryDim(), c.keyValueDim(), c.keyValueDim());
    LayerWeights viewed = new LayerWeights(layer.attentionNorm(), qkv[0], qkv[1], qkv[2], layer.wo(), b[0], b[1], b[2], layer.bo(),
        layer.ffnNorm(), gu[0], gu[1], layer.wDown());
    for (NDArray replaced : new NDArray[] {layer.wq(), layer.wk(), layer.wv(), layer.wGate(), layer.wUp(), layer.bq(), layer.bk(),
        layer.bv()}) {
      if (replaced != null) {
        replaced.close();
      }
    }
    return new Fused(viewed, f);
  }

  /** A layer whose projections are views of {@code fused}. */
  record Fused(LayerWeights layer, FusedProjections fused) {}

  private static NDArray view(NDArray view, NDManager manager) {
    view.attach(manager);
    return view;
  }

  private static NDArray stack(NDManager manager, NDArray... parts) {
    NDArray out = NDArrays.concat(new NDList(parts), 0);
    out.attach(manager);
    return out;
  }

  private static NDArray[] rows(NDArray stacked, long... heights) {
    NDArray[] out = new NDArray[heights.length];
    long start = 0;
    for (int i = 0; i < heights.length; i++) {
      out[i] = stacked.get(start + ":" + (start + heights[i]));
      start += heights[i];
    }
    return out;
  }
}
