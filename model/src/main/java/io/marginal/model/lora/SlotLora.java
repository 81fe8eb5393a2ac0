package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.ProjectionGroup;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Per-row LoRA for a batch whose rows use different adapter sets (none, shared, per-user,
 * stacked), S-LoRA / Punica style, kept per batch slot: for every adapted projection group
 * ({@link ProjectionGroup}: q|k|v, o, gate|up, down) the factors of the set in slot {@code s} sit
 * in row {@code s} of {@code [slots, in, R]} and {@code [slots, R, out]} (ranks zero-padded to the
 * largest seen, slots without the target zero), so a step adds {@code (x · Aᵀ_s) · Bᵀ_s} to every
 * row with two batched matrix products, whatever the number of distinct adapters.
 *
 * <p>A sequence that joins the batch writes its set's factors into its slot ({@link #assign}: one
 * in-place write per factor); one that leaves costs nothing (its slot is overwritten by the next).
 * So a batch whose membership changes every step does not gather every row's factors again. Owns
 * its tensors; engine thread only.
 */
public final class SlotLora implements AutoCloseable {

  private final int slots;
  private final NDManager manager;
  /** Per target: {@code A [slots, in, R]}, {@code B [slots, R, out]}. */
  private final Map<ConcatenatedLora.GroupTarget, NDArray[]> factors = new HashMap<>();
  /** Per slot: the targets whose rows hold nonzero factors. */
  private final Set<ConcatenatedLora.GroupTarget>[] written;
  /** Views of the first {@link #viewSpan} slots, by target (rebuilt when the span or a tensor changes). */
  private final Map<ConcatenatedLora.GroupTarget, NDArray[]> views = new HashMap<>();
  private NDManager viewManager;
  private int viewSpan = -1;

  @SuppressWarnings("unchecked")
  public SlotLora(int slots, NDManager parent) {
    this.slots = slots;
    this.manager = parent.newSubManager();
    this.written = new Set[slots];
    for (int s = 0; s < slots; s++) {
      written[s] = new HashSet<>();
    }
  }

  /** Puts {@code set}'s factors into {@code slot} (zeros for the targets it does not adapt). */
  public void assign(int slot, ConcatenatedLora set) {
    try (NDManager scratch = manager.newSubManager()) { // a scalar written with set() would stay in the tensors' manager
      write(slot, set, scratch);
    }
  }

  private void write(int slot, ConcatenatedLora set, NDManager scratch) {
    Set<ConcatenatedLora.GroupTarget> now = new HashSet<>();
    for (ConcatenatedLora.GroupTarget t : set.targets()) {
      ConcatenatedLora.Factors f = set.factors(t);
      NDArray[] ab = ensure(t, f);
      int r = f.rank();
      int rank = (int) ab[0].getShape().get(2);
      if (r == rank) {
        ab[0].set(new NDIndex("{}", slot), f.aT());
      } else { // the rank padding must be zero in A; B's padding rows then never count
        ab[0].set(new NDIndex("{}", slot), zeroRow(ab[0], scratch));
        ab[0].set(new NDIndex("{}, :, :{}", slot, r), f.aT());
      }
      ab[1].set(new NDIndex("{}, :{}, :", slot, r), f.bT());
      now.add(t);
    }
    for (ConcatenatedLora.GroupTarget t : written[slot]) {
      if (!now.contains(t)) {
        NDArray a = factors.get(t)[0];
        a.set(new NDIndex("{}", slot), zeroRow(a, scratch)); // A zero: the row's update is zero whatever B holds
      }
    }
    written[slot] = now;
  }

  private static NDArray zeroRow(NDArray slotsTensor, NDManager scratch) {
    Shape s = slotsTensor.getShape();
    return scratch.zeros(s.slice(1), slotsTensor.getDataType());
  }

  /** The tensors of {@code t}, made (zero) or widened to {@code f}'s rank if needed. */
  private NDArray[] ensure(ConcatenatedLora.GroupTarget t, ConcatenatedLora.Factors f) {
    NDArray[] ab = factors.get(t);
    long in = f.aT().getShape().get(0);
    long out = f.bT().getShape().get(1);
    if (ab == null) {
      ab = new NDArray[] {manager.zeros(new Shape(slots, in, f.rank())), manager.zeros(new Shape(slots, f.rank(), out))};
      factors.put(t, ab);
      dropViews();
    } else if (ab[0].getShape().get(2) < f.rank()) {
      long grow = f.rank() - ab[0].getShape().get(2);
      try (NDManager scratch = manager.newSubManager()) {
        NDArray a = ab[0].concat(scratch.zeros(new Shape(slots, in, grow)), 2);
        NDArray b = ab[1].concat(scratch.zeros(new Shape(slots, grow, out)), 1);
        a.attach(manager);
        b.attach(manager);
        ab[0].close();
        ab[1].close();
        ab = new NDArray[] {a, b};
      }
      factors.put(t, ab);
      dropViews();
    }
    return ab;
  }

  /** True when no slot has ever held factors. */
  public boolean isEmpty() {
    return factors.isEmpty();
  }

  /**
   * The update of slots {@code [0, span)}, for a step whose rows are those slots in order ({@code
   * [span, 1, in]} inputs). Views are kept while the span and the tensors stay the same, and see
   * every later {@link #assign}.
   */
  public ProjectionAdapter rows(int span) {
    if (span != viewSpan) {
      dropViews();
      viewSpan = span;
      viewManager = manager.newSubManager();
    }
    return new ProjectionAdapter() {
      @Override
      public NDArray delta(int layer, Projection projection, NDArray input, boolean training) {
        throw new UnsupportedOperationException("a batch's LoRA is applied per projection group");
      }

      @Override
      public NDArray groupDelta(int layer, ProjectionGroup group, NDArray input, long[] widths) {
        NDArray[] f = view(new ConcatenatedLora.GroupTarget(layer, group));
        return f == null ? null : input.matMul(f[0]).matMul(f[1]);
      }
    };
  }

  private NDArray[] view(ConcatenatedLora.GroupTarget t) {
    NDArray[] all = factors.get(t);
    if (all == null || viewSpan == slots) {
      return all;
    }
    return views.computeIfAbsent(t, k -> {
      NDIndex first = new NDIndex(":{}", viewSpan);
      return new NDArray[] {all[0].get(viewManager, first), all[1].get(viewManager, first)};
    });
  }

  /** Closes the views of the last span (made again on the next {@link #rows}). */
  public void dropViews() {
    views.clear();
    if (viewManager != null) {
      viewManager.close();
      viewManager = null;
    }
    viewSpan = -1;
  }

  @Override
  public void close() {
    manager.close();
  }
}
