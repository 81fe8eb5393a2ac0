package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.weights.ProjectionGroup;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Per-token LoRA for a batch whose tokens use different adapter sets (none, shared, per-user,
 * stacked), kept per batch slot (S-LoRA / Punica style): for every adapted projection group
 * ({@link ProjectionGroup}: q|k|v, o, gate|up, down) slot {@code s}'s factors sit in
 * {@code A [in, slots, R]} and {@code B [slots, R, out]} (ranks zero-padded to the largest seen,
 * slots without the target zero). Two forms of the update, over the slots in use:
 *
 * <ul>
 *   <li>a decode step, token {@code b} = slot {@code b} ({@link #forSlots}): two batched products
 *       over the slot views {@code [span, in, R]}, {@code [span, R, out]};
 *   <li>any step, token {@code i} using slot {@code s_i} ({@link #forTokens}, e.g. a step that also
 *       feeds admitted prompts): {@code ((x · A) ⊙ M) · B} over the {@code [in, span·R]} and
 *       {@code [span·R, out]} views, row {@code i} of the mask {@code M} keeping only slot
 *       {@code s_i}'s {@code R} columns (the others contribute exact zeros): two plain products and
 *       one product by the mask, whatever the mix of tokens.
 * </ul>
 *
 * <p>A sequence that joins the batch writes its set's factors into its slot ({@link #assign}: one
 * in-place write per factor, an empty set zeroes what the slot held); one that leaves costs nothing.
 * There is no gathering of every row's factors when the batch's membership changes. Owns its
 * tensors; engine thread only.
 */
public final class SlotLora implements AutoCloseable {

  private final int slots;
  private final NDManager manager;
  private final Map<ConcatenatedLora.GroupTarget, Factors> factors = new HashMap<>();
  /** Per slot: the targets whose columns hold nonzero factors. */
  private final Set<ConcatenatedLora.GroupTarget>[] written;
  /** Views of the first {@link #viewSpan} slots' columns, by target: kept while the span and the tensors stay the same. */
  private final Map<ConcatenatedLora.GroupTarget, SpanViews> views = new HashMap<>();
  private NDManager viewManager;
  private int viewSpan = -1;

  /** A target's factors of all slots: {@code a [in, slots, R]} and {@code b [slots, R, out]}. */
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
        all.a.set(new NDIndex(":, {}, :{}", slot, r), f.aT());
        if (r < all.rank) { // the padding columns of A must be zero; B's padding rows then never count
          all.a.set(new NDIndex(":, {}, {}:", slot, r),
              scratch.zeros(new Shape(all.a.getShape().get(0), all.rank - r), all.a.getDataType()));
        }
        all.b.set(new NDIndex("{}, :{}, :", slot, r), f.bT());
        now.add(t);
      }
      for (ConcatenatedLora.GroupTarget t : written[slot]) {
        if (!now.contains(t)) { // A zero: the slot's update is zero whatever B holds
          Factors all = factors.get(t);
          all.a.set(new NDIndex(":, {}, :", slot), scratch.zeros(new Shape(all.a.getShape().get(0), all.rank), all.a.getDataType()));
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
      all = new Factors(manager.zeros(new Shape(in, slots, f.rank())), manager.zeros(new Shape(slots, f.rank(), out)), f.rank());
      factors.put(t, all);
      dropViews();
    } else if (all.rank < f.rank()) {
      int grow = f.rank() - all.rank;
      try (NDManager scratch = manager.newSubManager()) {
        NDArray a = all.a.concat(scratch.zeros(new Shape(in, slots, grow)), 2);
        NDArray b = all.b.concat(scratch.zeros(new Shape(slots, grow, out)), 1);
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
    useSpan(span);
    Map<Integer, NDArray> masks = new HashMap<>();
    return ProjectionAdapter.perGroup((layer, group, input) -> {
      SpanViews v = views(layer, group);
      if (v == null) {
        return null;
      }
      NDArray mask = masks.computeIfAbsent(v.rank(), r -> mask(tokenSlots, span, r, step));
      return input.matMul(v.flatA()).mul(mask).matMul(v.flatB());
    });
  }

  /**
   * The update of a step whose tokens are exactly slots {@code [0, span)} in order (a decode step:
   * one token per slot), for {@code [span, 1, in]} inputs: each row's own factors by two batched
   * products over the slot views, {@code [span, in, R]} and {@code [span, R, out]}; a slot that
   * holds no set has zero factors.
   */
  public ProjectionAdapter forSlots(int span) {
    useSpan(span);
    return ProjectionAdapter.perGroup((layer, group, input) -> {
      SpanViews v = views(layer, group);
      // bmm itself: matMul would first expand and reshape both operands
      return v == null ? null : input.batchMatMul(v.slotA()).batchMatMul(v.slotB());
    });
  }

  /**
   * One target's factors over the first {@link #viewSpan} slots, as views: for the masked form A
   * {@code [in, span·R]} and B {@code [span·R, out]}, for the slot-batched form A
   * {@code [span, in, R]} and B {@code [span, R, out]}.
   */
  private record SpanViews(NDArray flatA, NDArray flatB, NDArray slotA, NDArray slotB, int rank) {}

  /** The views of the group's factors over the span in use, made once per span; null when no set adapts the group. */
  private SpanViews views(int layer, ProjectionGroup group) {
    ConcatenatedLora.GroupTarget t = new ConcatenatedLora.GroupTarget(layer, group);
    Factors all = factors.get(t);
    if (all == null) {
      return null;
    }
    return views.computeIfAbsent(t, k -> {
      long in = all.a.getShape().get(0);
      long out = all.b.getShape().get(2);
      NDArray a = all.a.get(viewManager, new NDIndex(":, :{}, :", viewSpan)); // views, never the tensors themselves
      NDArray b = all.b.get(viewManager, new NDIndex(":{}", viewSpan));
      SpanViews v = new SpanViews(a.reshape(in, (long) viewSpan * all.rank), b.reshape((long) viewSpan * all.rank, out),
          a.transpose(1, 0, 2), b, all.rank);
      v.flatA().attach(viewManager);
      v.flatB().attach(viewManager);
      v.slotA().attach(viewManager);
      return v;
    });
  }

  private void useSpan(int span) {
    if (span < 1 || span > slots) {
      throw new IllegalArgumentException("span " + span + " outside 1.." + slots);
    }
    if (span != viewSpan) {
      dropViews();
      viewSpan = span;
      viewManager = manager.newSubManager();
    }
  }

  /** Closes the span views kept between steps (made again by the next step that needs them): for an idle batch. */
  public void dropViews() {
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
