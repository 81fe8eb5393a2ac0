package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The adapters of one request as a single low-rank update per target, ready for batched serving:
 * stacking adapters along the rank axis, {@code Aᵀ = [A1ᵀ A2ᵀ]} ({@code [in, r1+r2]}) and
 * {@code Bᵀ = [s1·m1⊙B1 ; s2·m2⊙B2]ᵀ} ({@code [r1+r2, out]}), gives
 * {@code x·Aᵀ·Bᵀ = Σ delta_i} — the sum {@link ActiveAdapters} computes one adapter at a time.
 * Scaling and masks are folded into Bᵀ, so serving is two matrix products per target. Owns its
 * tensors (a sub-manager of the model's); the adapters themselves are not retained.
 */
public final class ConcatenatedLora implements AutoCloseable {

  /** One target's factors: {@code aT [in, rank]}, {@code bT [rank, out]}. */
  public record Factors(NDArray aT, NDArray bT, int rank) {}

  private final String key;
  private final NDManager manager;
  private final SortedMap<LoraTarget, Factors> factors = new TreeMap<>();

  private ConcatenatedLora(String key, NDManager manager) {
    this.key = key;
    this.manager = manager;
  }

  /** Builds the factors of {@code adapters} (none: an empty set) in a sub-manager of {@code parent}. */
  public static ConcatenatedLora of(ActiveAdapters adapters, NDManager parent) {
    ConcatenatedLora out = new ConcatenatedLora(adapters.cacheKey(), parent.newSubManager());
    Map<LoraTarget, List<LoraAdapter>> byTarget = new TreeMap<>();
    for (LoraAdapter a : adapters.adapters()) {
      for (LoraTarget t : a.targets()) {
        byTarget.computeIfAbsent(t, x -> new ArrayList<>()).add(a);
      }
    }
    try (NDManager scratch = out.manager.newSubManager()) {
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
        // contiguous copies owned by this set
        NDArray ownA = aT.duplicate();
        NDArray ownB = bT.duplicate();
        ownA.attach(out.manager);
        ownB.attach(out.manager);
        out.factors.put(t, new Factors(ownA, ownB, rank));
      }
    }
    return out;
  }

  /** The adapter set's cache key ({@link ActiveAdapters#cacheKey()}). */
  public String key() {
    return key;
  }

  public boolean isEmpty() {
    return factors.isEmpty();
  }

  /** The factors of {@code t}, or null when no adapter of the set touches it. */
  public Factors factors(LoraTarget t) {
    return factors.get(t);
  }

  public java.util.Set<LoraTarget> targets() {
    return factors.keySet();
  }

  @Override
  public void close() {
    manager.close();
  }
}
