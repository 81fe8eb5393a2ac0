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
 * Per-token LoRA for a batch whose tokens use different adapter sets (none, shared, per-user,
 * stacked), kept per batch slot (S-LoRA / Punica's problem, solved with two plain products): for
 * every adapted projection group ({@link ProjectionGroup}: q|k|v, o, gate|up, down) the factors of
 * every slot sit side by side along the rank axis, {@code A [in, slots·R]} and
 * {@code B [slots·R, out]} (ranks zero-padded to the largest seen, slots without the target zero).
 * A step whose token {@code i} uses slot {@code s_i} adds
 * {@code ((x · A) ⊙ M) · B}, where row {@code i} of the mask {@code M} keeps only slot
 * {@code s_i}'s {@code R} columns: each token gets exactly its own slot's update (the other
 * columns contribute exact zeros), with two matrix products and one product by the mask per
 * group, whatever the number of distinct adapters and whether the token is a running row's or
 * one of a prompt's.
 *
 * <p>A sequence that joins the batch writes its set's factors into its slot ({@link #assign}: one
 * in-place write per factor); one that leaves costs nothing (its slot is overwritten by the next).
 * Owns its tensors; engine thread only.
 */
public final class SlotLora implements AutoCloseable {

  private final int slots;
  private final NDManager manager;
  private final Map<ConcatenatedLora.GroupTarget, Factors> factors = new HashMap<>();
  /** Per slot: the targets whose columns hold nonzero factors. */
  private final Set<ConcatenatedLora.GroupTarget>[] written;
  /** Views of the first {@link #viewSpan} slots' columns, by target: kept while the span and the tensors stay the same. */
  private final Map<ConcatenatedLora.GroupTarget, NDArray[]> views = new HashMap<>();
  private NDManager viewManager;
  private int viewSpan = -1;

  /** A target's factors of all slots, each slot's {@code rank} columns of A (rows of B) side by side. */
  private static final class Factors {
    NDArray a;
    NDArray b;
    int rank;

    Factors(NDArray a, NDArray b, int rank) {
      this.a = a;
      this.b = b;
      this.rank = rank;
    }
  }

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
    try (NDManager scratch = manager.newSubManager()) { // zeros made here, not in the tensors' manager
      Set<ConcatenatedLora.GroupTarget> now = new HashSet<>();
      for (ConcatenatedLora.GroupTarget t : set.targets()) {
        ConcatenatedLora.Factors f = set.factors(t);
        Factors all = ensure(t, f);
        int r = f.rank();
        int first = slot * all.rank;
        all.a.set(new NDIndex(":, {}:{}", first, first + r), f.aT());
        if (r < all.rank) { // the padding columns of A must be zero; B's padding rows then never count
          all.a.set(new NDIndex(":, {}:{}", first + r, first + all.rank),
              scratch.zeros(new Shape(all.a.getShape().get(0), all.rank - r), all.a.getDataType()));
        }
        all.b.set(new NDIndex("{}:{}, :", first, first + r), f.bT());
        now.add(t);
      }
      for (ConcatenatedLora.GroupTarget t : written[slot]) {
        if (!now.contains(t)) { // A zero: the slot's update is zero whatever B holds
          Factors all = factors.get(t);
          all.a.set(new NDIndex(":, {}:{}", slot * all.rank, (slot + 1) * all.rank),
              scratch.zeros(new Shape(all.a.getShape().get(0), all.rank), all.a.getDataType()));
        }
      }
      written[slot] = now;
    }
  }

  /** The factors of {@code t}, made (zero) or widened to {@code f}'s rank if needed. */
  private Factors ensure(ConcatenatedLora.GroupTarget t, ConcatenatedLora.Factors f) {
    Factors all = factors.get(t);
    long in = f.aT().getShape().get(0);
    long out = f.bT().getShape().get(1);
    if (all == null) {
      all = new Factors(manager.zeros(new Shape(in, (long) slots * f.rank())), manager.zeros(new Shape((long) slots * f.rank(), out)),
          f.rank());
      factors.put(t, all);
      dropViews();
    } else if (all.rank < f.rank()) {
      int grow = f.rank() - all.rank;
      try (NDManager scratch = manager.newSubManager()) {
        NDArray a = all.a.reshape(in, slots, all.rank).concat(scratch.zeros(new Shape(in, slots, grow)), 2).reshape(in, -1);
        NDArray b = all.b.reshape(slots, all.rank, out).concat(scratch.zeros(new Shape(slots, grow, out)), 1).reshape(-1, out);
        a.attach(manager);
        b.attach(manager);
        all.a.close();
        all.b.close();
        all.a = a;
        all.b = b;
        all.rank = f.rank();
      }
      dropViews();
    }
    return all;
  }

  /**
   * The update of a step whose token {@code i} uses slot {@code tokenSlots[i]} ({@code -1}: no
   * adapter; every slot below {@code span}), for {@code [N, 1, in]} inputs: only the first
   * {@code span} slots' columns take part (slots are taken lowest first, so a half-full batch pays
   * for about half). Its masks are made in {@code step}, once per rank.
   */
  public ProjectionAdapter forTokens(int[] tokenSlots, int span, NDManager step) {
    if (span < 1 || span > slots) {
      throw new IllegalArgumentException("span " + span + " outside 1.." + slots);
    }
    if (span != viewSpan) {
      dropViews();
      viewSpan = span;
      viewManager = manager.newSubManager();
    }
    Map<Integer, NDArray> masks = new HashMap<>();
    return new ProjectionAdapter() {
      @Override
      public NDArray delta(int layer, Projection projection, NDArray input, boolean training) {
        throw new UnsupportedOperationException("a batch's LoRA is applied per projection group");
      }

      @Override
      public NDArray groupDelta(int layer, ProjectionGroup group, NDArray input, long[] widths) {
        ConcatenatedLora.GroupTarget t = new ConcatenatedLora.GroupTarget(layer, group);
        Factors all = factors.get(t);
        if (all == null) {
          return null;
        }
        NDArray[] ab = span == slots ? new NDArray[] {all.a, all.b} : views.computeIfAbsent(t, k -> new NDArray[] {
            all.a.get(viewManager, new NDIndex(":, :{}", (long) span * all.rank)),
            all.b.get(viewManager, new NDIndex(":{}, :", (long) span * all.rank))});
        NDArray mask = masks.computeIfAbsent(all.rank, r -> mask(tokenSlots, span, r, step));
        return input.matMul(ab[0]).mul(mask).matMul(ab[1]);
      }
    };
  }

  private void dropViews() {
    views.clear();
    if (viewManager != null) {
      viewManager.close();
      viewManager = null;
    }
    viewSpan = -1;
  }

  /** {@code [N, 1, span·rank]}: row {@code i} is 1 on slot {@code tokenSlots[i]}'s columns, 0 elsewhere. */
  private static NDArray mask(int[] tokenSlots, int span, int rank, NDManager step) {
    int width = span * rank;
    float[] m = new float[tokenSlots.length * width];
    for (int i = 0; i < tokenSlots.length; i++) {
      if (tokenSlots[i] >= 0) {
        java.util.Arrays.fill(m, i * width + tokenSlots[i] * rank, i * width + (tokenSlots[i] + 1) * rank, 1f);
      }
    }
    return step.create(m, new Shape(tokenSlots.length, 1, width));
  }

  @Override
  public void close() {
    manager.close();
  }
}
