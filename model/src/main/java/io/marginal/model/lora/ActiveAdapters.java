package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.weights.Projection;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The adapters applied together to one request, in order (e.g. the shared unlearning adapter,
 * then the user's own). Their updates add up. Immutable; cheap to build per request.
 */
public final class ActiveAdapters implements ProjectionAdapter {
  public static final ActiveAdapters NONE = new ActiveAdapters(List.of());

  private final List<LoraAdapter> adapters;

  private ActiveAdapters(List<LoraAdapter> adapters) {
    this.adapters = List.copyOf(adapters);
  }

  public static ActiveAdapters of(LoraAdapter... adapters) {
    return new ActiveAdapters(List.of(adapters));
  }

  public static ActiveAdapters of(List<LoraAdapter> adapters) {
    return new ActiveAdapters(adapters);
  }

  /** This list with {@code adapter} appended. */
  public ActiveAdapters plus(LoraAdapter adapter) {
    List<LoraAdapter> out = new ArrayList<>(adapters);
    out.add(adapter);
    return new ActiveAdapters(out);
  }

  public List<LoraAdapter> adapters() {
    return adapters;
  }

  public boolean isEmpty() {
    return adapters.isEmpty();
  }

  @Override
  public NDArray delta(int layer, Projection projection, NDArray input, boolean training) {
    NDArray sum = null;
    for (LoraAdapter adapter : adapters) {
      NDArray d = adapter.delta(layer, projection, input, training);
      if (d != null) {
        sum = sum == null ? d : sum.add(d);
      }
    }
    return sum;
  }

  /**
   * A key naming exactly these adapter versions (ids, versions and content hashes, in order),
   * for anything cached per adapter set: a cache keyed by adapter name alone would serve stale
   * results after an in-place replacement.
   */
  public String cacheKey() {
    return adapters.isEmpty() ? "base" : adapters.stream().map(LoraAdapter::identity).collect(Collectors.joining("+"));
  }

  @Override
  public String toString() {
    return "ActiveAdapters[" + cacheKey() + "]";
  }
}
