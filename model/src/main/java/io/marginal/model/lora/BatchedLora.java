package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.ProjectionGroup;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Per-row LoRA for a batch whose rows use different adapter sets (none, shared, per-user,
 * stacked), S-LoRA / Punica style: for every adapted projection group ({@link ProjectionGroup}:
 * q|k|v, o, gate|up, down) each row's factors are gathered once
 * into {@code [B, in, R]} and {@code [B, R, out]} (ranks zero-padded to the batch's largest, rows
 * without the target all zero), so a decode step adds {@code (x · Aᵀ_row) · Bᵀ_row} to every row
 * with two batched matrix products, whatever the number of distinct adapters. When every row uses
 * the same set the factors are used as they are (no gathering).
 *
 * <p>Built when the batch's membership changes, not per step. Owns the gathered tensors; the
 * row sets must stay open while it is used.
 */
public final class BatchedLora implements ProjectionAdapter, AutoCloseable {

  private final NDManager manager;
  private final Map<ConcatenatedLora.GroupTarget, NDArray[]> gathered = new HashMap<>();
  private final ConcatenatedLora uniform;

  private BatchedLora(NDManager manager, ConcatenatedLora uniform) {
    this.manager = manager;
    this.uniform = uniform;
  }

  /** Gathers the factors of {@code rows} (one set per batch row, in order). */
  public static BatchedLora of(List<ConcatenatedLora> rows, NDManager parent) {
    boolean same = rows.stream().allMatch(r -> r == rows.get(0));
    BatchedLora out = new BatchedLora(parent.newSubManager(), same ? rows.get(0) : null);
    if (same) {
      return out;
    }
    TreeSet<ConcatenatedLora.GroupTarget> targets = new TreeSet<>();
    rows.forEach(r -> targets.addAll(r.targets()));
    try (NDManager scratch = out.manager.newSubManager()) {
      for (ConcatenatedLora.GroupTarget t : targets) {
        int rank = 0;
        long in = -1;
        long width = -1;
        for (ConcatenatedLora r : rows) {
          ConcatenatedLora.Factors f = r.factors(t);
          if (f != null) {
            rank = Math.max(rank, f.rank());
            in = f.aT().getShape().get(0);
            width = f.bT().getShape().get(1);
          }
        }
        NDList as = new NDList();
        NDList bs = new NDList();
        for (ConcatenatedLora r : rows) {
          ConcatenatedLora.Factors f = r.factors(t);
          if (f == null) {
            as.add(scratch.zeros(new Shape(in, rank)));
            bs.add(scratch.zeros(new Shape(rank, width)));
          } else if (f.rank() < rank) {
            // a concat lands in its first operand's manager, the row set's: keep it in scratch
            NDArray a = f.aT().concat(scratch.zeros(new Shape(in, rank - f.rank())), 1);
            NDArray b = f.bT().concat(scratch.zeros(new Shape(rank - f.rank(), width)), 0);
            a.attach(scratch);
            b.attach(scratch);
            as.add(a);
            bs.add(b);
          } else {
            as.add(f.aT());
            bs.add(f.bT());
          }
        }
        // the stack lands in the first row's manager; move it to this batch's
        NDArray a = NDArrays.stack(as);
        NDArray b = NDArrays.stack(bs);
        // (the stack too lands in the first operand's manager)
        a.attach(out.manager);
        b.attach(out.manager);
        out.gathered.put(t, new NDArray[] {a, b});
      }
    }
    return out;
  }

  /** True when no row has any adapter. */
  public boolean isEmpty() {
    return uniform != null ? uniform.isEmpty() : gathered.isEmpty();
  }

  /** Per projection is not how a batch is served: the decode path asks per group ({@link #groupDelta}). */
  @Override
  public NDArray delta(int layer, Projection projection, NDArray input, boolean training) {
    throw new UnsupportedOperationException("a batch's LoRA is applied per projection group");
  }

  @Override
  public NDArray groupDelta(int layer, ProjectionGroup group, NDArray input, long[] widths) {
    ConcatenatedLora.GroupTarget t = new ConcatenatedLora.GroupTarget(layer, group);
    if (uniform != null) {
      ConcatenatedLora.Factors f = uniform.factors(t);
      return f == null ? null : input.matMul(f.aT()).matMul(f.bT());
    }
    NDArray[] f = gathered.get(t);
    return f == null ? null : input.matMul(f[0]).matMul(f[1]);
  }

  @Override
  public void close() {
    manager.close();
  }
}
