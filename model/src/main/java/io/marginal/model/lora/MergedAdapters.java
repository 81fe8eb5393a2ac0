package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.transformer.Transformer;
import io.marginal.model.weights.FusedProjections;
import io.marginal.model.weights.ProjectionGroup;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The adapters every request of a node uses (its shared adapters) merged into a copy of the
 * projections they touch, {@code W + (Aᵀ·Bᵀ)ᵀ} (PEFT's {@code merge_adapter}, kept reversible: the
 * model's own weights are not changed, so the instance embedding, scoring and training still see
 * the base model). A batch step on these weights applies the merged adapters at no cost per token;
 * each request's adapters are served relative to them ({@link #residual}): its adapters that are
 * not merged, less the merged ones it does not use (a {@code :none} request, one pinned to the
 * version being replaced). Groups no merged adapter touches share the model's arrays; the copies
 * cost the touched groups' weights once more.
 *
 * <p>{@link #residual} and {@link #close} are synchronized: a residual is never built from factors
 * being freed, and one asked after closing gets {@code null} (ask the engine's current merge).
 */
public final class MergedAdapters implements AutoCloseable {

  /** One merged adapter, its factors kept (copies) for the requests that do not use it. */
  private record Member(String identity, ConcatenatedLora lora) {}

  private static final java.util.concurrent.atomic.AtomicLong SERIALS = new java.util.concurrent.atomic.AtomicLong();

  private final String key;
  private final long serial = SERIALS.incrementAndGet();
  private final ModelConfig config;
  private final List<Member> members;
  /** Null when nothing is merged: the model's own, read when asked (they may be built on first use). */
  private final List<FusedProjections> projections;
  private final io.marginal.model.weights.ModelWeights weights;
  private final NDManager manager;
  private final long bytes;
  private boolean closed;

  private MergedAdapters(String key, ModelConfig config, List<Member> members, List<FusedProjections> projections,
                         io.marginal.model.weights.ModelWeights weights, NDManager manager, long bytes) {
    this.key = key;
    this.config = config;
    this.members = List.copyOf(members);
    this.projections = projections == null ? null : List.copyOf(projections);
    this.weights = weights;
    this.manager = manager;
    this.bytes = bytes;
  }

  /** Nothing merged: the model's own projections. */
  public static MergedAdapters none(Transformer transformer) {
    return new MergedAdapters("base", transformer.config(), List.of(), null, transformer.weights(), null, 0);
  }

  /** {@code shared} merged into copies of the projections it touches, owned by a sub-manager of {@code parent}. */
  public static MergedAdapters of(ActiveAdapters shared, Transformer transformer, NDManager parent) {
    if (shared.isEmpty()) {
      return none(transformer);
    }
    ModelConfig config = transformer.config();
    NDManager manager = parent.newSubManager();
    try {
      List<Member> members = new ArrayList<>();
      for (LoraAdapter a : shared.adapters()) {
        members.add(new Member(a.identity(), ConcatenatedLora.of(ActiveAdapters.of(a), config, manager)));
      }
      List<FusedProjections> base = transformer.weights().fusedLayers();
      List<FusedProjections> merged = new ArrayList<>();
      try (ConcatenatedLora all = ConcatenatedLora.of(shared, config, manager); NDManager scratch = manager.newSubManager()) {
        for (int layer = 0; layer < base.size(); layer++) {
          int l = layer;
          merged.add(base.get(layer).updated(g -> update(all, l, g, scratch), manager));
        }
      }
      return new MergedAdapters(shared.cacheKey(), config, members, merged, null, manager, copyBytes(shared, transformer));
    } catch (RuntimeException | Error e) {
      manager.close();
      throw e;
    }
  }

  /**
   * Bytes of the copies {@link #of} would make for {@code shared}: the weights of every projection
   * group any of them adapts, in any layer (what a merge costs in memory, to check before building).
   */
  public static long copyBytes(ActiveAdapters shared, Transformer transformer) {
    Set<ConcatenatedLora.GroupTarget> touched = new java.util.TreeSet<>();
    for (LoraAdapter a : shared.adapters()) {
      for (LoraTarget t : a.targets()) {
        touched.add(new ConcatenatedLora.GroupTarget(t.layer(), ProjectionGroup.of(t.projection())));
      }
    }
    long bytes = 0;
    for (ConcatenatedLora.GroupTarget t : touched) {
      NDArray w = transformer.weights().fused(t.layer()).weight(t.group());
      bytes += w.getShape().size() * w.getDataType().getNumOfBytes();
    }
    return bytes;
  }

  /** Group {@code g}'s {@code [out, in]} update in {@code layer}, {@code (Aᵀ·Bᵀ)ᵀ = B·A}, in {@code scratch}; null if none. */
  private static NDArray update(ConcatenatedLora set, int layer, ProjectionGroup g, NDManager scratch) {
    ConcatenatedLora.Factors f = set.factors(new ConcatenatedLora.GroupTarget(layer, g));
    if (f == null) {
      return null;
    }
    NDArray b = f.bT().transpose();
    b.attach(scratch);
    NDArray a = f.aT().transpose();
    a.attach(scratch);
    NDArray product = b.matMul(a);
    product.attach(scratch);
    return product;
  }

  /** Names the merged adapter versions ({@link ActiveAdapters#cacheKey()}); {@code base} when none. */
  public String key() {
    return key;
  }

  public boolean isEmpty() {
    return members.isEmpty();
  }

  /** The merged adapter versions ({@link LoraAdapter#identity()}), in merge order; empty when none. */
  public List<String> identities() {
    return members.stream().map(Member::identity).toList();
  }

  /**
   * Unique per instance: sets built relative to this merge are keyed by it, so a later merge of the
   * same adapters never finds them.
   */
  public long serial() {
    return serial;
  }

  /** Each layer's projections, the merged adapters in them. */
  public List<FusedProjections> projections() {
    return projections != null ? projections : weights.fusedLayers();
  }

  /** Bytes of the merged copies (0 when none). */
  public long sizeBytes() {
    return bytes;
  }

  /**
   * {@code adapters} relative to these weights, as one set in a sub-manager of {@code parent}: the
   * adapters not merged, stacked with the negated factors of the merged ones {@code adapters} does
   * not include. Empty when {@code adapters} is exactly the merged set (in any order). {@code null}
   * once closed.
   */
  public synchronized ConcatenatedLora residual(ActiveAdapters adapters, NDManager parent) {
    if (closed) {
      return null;
    }
    Set<String> merged = new HashSet<>();
    members.forEach(m -> merged.add(m.identity()));
    Set<String> used = new HashSet<>();
    List<LoraAdapter> plus = new ArrayList<>();
    for (LoraAdapter a : adapters.adapters()) {
      used.add(a.identity());
      if (!merged.contains(a.identity())) {
        plus.add(a);
      }
    }
    ConcatenatedLora out = ConcatenatedLora.of(ActiveAdapters.of(plus), config, parent);
    for (Member m : members) {
      if (!used.contains(m.identity())) {
        ConcatenatedLora less = ConcatenatedLora.difference(out, m.lora(), parent);
        out.close();
        out = less;
      }
    }
    return out;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (manager != null) {
      manager.close();
    }
  }

  @Override
  public String toString() {
    return "MergedAdapters[" + key + "]";
  }
}
