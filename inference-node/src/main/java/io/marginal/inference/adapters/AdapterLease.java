package io.marginal.inference.adapters;

import io.marginal.model.lora.ActiveAdapters;
import java.util.List;

/**
 * The adapter versions one request runs with, captured when it starts and held until it ends:
 * a swap during the request does not change them, and their tensors stay alive until release.
 */
public final class AdapterLease implements AutoCloseable {

  private final List<ServedAdapter> adapters;
  private final ActiveAdapters active;
  private boolean released;

  AdapterLease(List<ServedAdapter> adapters) {
    this.adapters = List.copyOf(adapters);
    this.active = ActiveAdapters.of(adapters.stream().map(ServedAdapter::adapter).toList());
  }

  public ActiveAdapters active() {
    return active;
  }

  /** {@code adapterId@version:sha-prefix} of each adapter applied, in order. */
  public List<String> labels() {
    return adapters.stream().map(ServedAdapter::label).toList();
  }

  @Override
  public synchronized void close() {
    if (!released) {
      released = true;
      adapters.forEach(ServedAdapter::release);
    }
  }
}
