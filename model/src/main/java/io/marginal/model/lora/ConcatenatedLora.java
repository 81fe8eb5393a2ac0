package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.weights.ProjectionGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The adapters of one request as a single low-rank update per projection group, ready for batched
 * serving. Stacking adapters along the rank axis, {@code Aᵀ = [A1ᵀ A2ᵀ]} ({@code [in, r1+r2]}) and
 * {@code Bᵀ = [s1·m1⊙B1 ; s2·m2⊙B2]ᵀ} ({@code [r1+r2, out]}), gives {@code x·Aᵀ·Bᵀ = Σ delta_i} —
 * the sum {@link ActiveAdapters} computes one adapter at a time. Projections that read the same
 * input ({@link ProjectionGroup}: q|k|v, gate|up) are stacked the same way, with a block-diagonal
 * {@code Bᵀ} ({@code [Σr, Σout]}, zero where a member has no adapter), so the decode path adds one
 * update per group: two matrix products for q, k and v together. Scaling and masks are folded into
 * {@code Bᵀ}. Owns its tensors (a sub-manager of the model's); the adapters are not retained.
 */
public final class ConcatenatedLora implements AutoCloseable {

  /** One group's factors: {@code aT [in, rank]}, {@code bT [rank, group out]}. */
  public record Factors(NDArray aT, NDArray bT, int rank) {}

  /** A projection group of one layer. */
  public record GroupTarget(int layer, ProjectionGroup group) implements Comparable<GroupTarget> {
    @Override
    public int compareTo(GroupTarget o) {
      return layer != o.layer ? Integer.compare(layer, o.layer) : group.compareTo(o.group);
    }
  }

  private final String key;
  private final NDManager manager;
  private final SortedMap<GroupTarget, Factors> factors = new TreeMap<>();

  private ConcatenatedLora(String key, NDManager manager) {
    this.key = key;
    this.manager = manager;
  }

  /** Builds the factors of {@code adapters} (none: an empty set) for a model of {@code config}, in a sub-manager of {@code parent}. */
  public static ConcatenatedLora of(ActiveAdapters adapters, ModelConfig config, NDManager parent) {
    ConcatenatedLora out = new ConcatenatedLora(adapters.cacheKey(), parent.newSubManager());
    Map<LoraTarget, List<LoraAdapter>> byTarget = new TreeMap<>();
    for (LoraAdapter a : adapters.adapters()) {
      for (LoraTarget t : a.targets()) {
        byTarget.computeIfAbsent(t, x -> new ArrayList<>()).add(a);
      }
    }
    try (NDManager scratch = out.manager.newSubManager()) {
      Map<LoraTarget, Factors> perTarget = new TreeMap<>();
      for (Map.Entry<LoraTarget, List<LoraAdapter>> e : byTarget.entrySet()) {
        LoraTarget t = e.getKey();
        NDArray aT = null;
        NDArray bT = null;
        int rank = 0;
        for (LoraAdapter a : e.getValue()) {
          NDArray at = a.loraA(t).transpose();
          at.attach(scratch);
          NDArray bt = a.servingB(t, scratch).transpose();
          bt.attach(scratch);
          aT = aT == null ? at : aT.concat(at, 1);
          bT = bT == null ? bt : bT.concat(bt, 0);
          rank += (int) a.loraA(t).getShape().get(0);
        }
        perTarget.put(t, new Factors(aT, bT, rank));
      }
      Map<GroupTarget, List<LoraTarget>> groups = new TreeMap<>();
      perTarget.keySet().forEach(t -> groups.computeIfAbsent(new GroupTarget(t.layer(), ProjectionGroup.of(t.projection())),
          g -> new ArrayList<>()).add(t));
      for (Map.Entry<GroupTarget, List<LoraTarget>> e : groups.entrySet()) {
        ProjectionGroup group = e.getKey().group();
        long width = group.outFeatures(config);
        NDList as = new NDList();
        NDList bs = new NDList();
        int rank = 0;
        for (LoraTarget t : e.getValue()) {
          Factors f = perTarget.get(t);
          long offset = group.offset(t.projection(), config);
          long after = width - offset - f.bT().getShape().get(1);
          NDList row = new NDList();
          if (offset > 0) {
            row.add(scratch.zeros(new Shape(f.rank(), offset)));
          }
          row.add(f.bT());
          if (after > 0) {
            row.add(scratch.zeros(new Shape(f.rank(), after)));
          }
          as.add(f.aT());
          bs.add(row.size() == 1 ? f.bT() : NDArrays.concat(row, 1));
          rank += f.rank();
        }
        // contiguous copies owned by this set
        NDArray ownA = (as.size() == 1 ? as.head() : NDArrays.concat(as, 1)).duplicate();
        NDArray ownB = (bs.size() == 1 ? bs.head() : NDArrays.concat(bs, 0)).duplicate();
        ownA.attach(out.manager);
        ownB.attach(out.manager);
        out.factors.put(e.getKey(), new Factors(ownA, ownB, rank));
      }
    }
    return out;
  }

  /**
   * {@code plus − minus} as one set: per group, {@code plus}'s factors stacked along the rank axis
   * with {@code minus}'s, the latter's {@code Bᵀ} negated, so {@code x·Aᵀ·Bᵀ} is the first set's
   * update less the second's (e.g. a request's adapters relative to weights that have
   * {@code minus} merged in, {@link MergedAdapters}). A new set in a sub-manager of {@code parent};
   * both inputs stay as they are.
   */
  static ConcatenatedLora difference(ConcatenatedLora plus, ConcatenatedLora minus, NDManager parent) {
    ConcatenatedLora out = new ConcatenatedLora(plus.key + "-(" + minus.key + ")", parent.newSubManager());
    java.util.Set<GroupTarget> targets = new java.util.TreeSet<>(plus.factors.keySet());
    targets.addAll(minus.factors.keySet());
    try (NDManager scratch = out.manager.newSubManager()) {
      for (GroupTarget t : targets) {
        Factors p = plus.factors.get(t);
        Factors m = minus.factors.get(t);
        NDArray negB = m == null ? null : m.bT().neg();
        if (negB != null) {
          negB.attach(scratch);
        }
        NDArray a = p == null ? m.aT() : m == null ? p.aT() : scratched(p.aT().concat(m.aT(), 1), scratch);
        NDArray b = p == null ? negB : m == null ? p.bT() : scratched(p.bT().concat(negB, 0), scratch);
        NDArray ownA = a.duplicate(); // results belong to the first operand's manager until attached
        NDArray ownB = b.duplicate();
        ownA.attach(out.manager);
        ownB.attach(out.manager);
        out.factors.put(t, new Factors(ownA, ownB, (p == null ? 0 : p.rank()) + (m == null ? 0 : m.rank())));
      }
    }
    return out;
  }

  private static NDArray scratched(NDArray a, NDManager scratch) {
    a.attach(scratch);
    return a;
  }

  /** The adapter set's cache key ({@link ActiveAdapters#cacheKey()}). */
  public String key() {
    return key;
  }

  public boolean isEmpty() {
    return factors.isEmpty();
  }

  /** Bytes of the factors this set holds. */
  public long sizeBytes() {
    long bytes = 0;
    for (Factors f : factors.values()) {
      bytes += f.aT().getShape().size() * f.aT().getDataType().getNumOfBytes()
          + f.bT().getShape().size() * f.bT().getDataType().getNumOfBytes();
    }
    return bytes;
  }

  /** The factors of {@code g}, or null when no adapter of the set touches any of its projections. */
  public Factors factors(GroupTarget g) {
    return factors.get(g);
  }

  /** This set applied to every row of a batch ({@code [B, T, in]} inputs): two products per adapted group, no gathering. */
  public ProjectionAdapter uniform() {
    return ProjectionAdapter.perGroup((layer, group, input) -> {
      Factors f = factors.get(new GroupTarget(layer, group));
      return f == null ? null : input.matMul(f.aT()).matMul(f.bT());
    });
  }

  public java.util.Set<GroupTarget> targets() {
    return factors.keySet();
  }

  @Override
  public void close() {
    manager.close();
  }
}
