package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of the tokens seen so far, per layer, {@code [B, kvHeads, S, headDim]} after
 * rotary embedding. Owns a sub-manager of the request; closing the cache frees it. One cache
 * belongs to one request and one adapter set; it is not shared between threads.
 */
public final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;

  public KvCache(NDManager requestManager, int layers) {
    this.manager = requestManager.newSubManager();
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
  }

  /** Number of cached positions. */
  public int length() {
    return keys[0] == null ? 0 : (int) keys[0].getShape().get(2);
  }

  /** Cached keys of {@code layer}, {@code [B, kvHeads, S, headDim]}. */
  NDArray keys(int layer) {
    return keys[layer];
  }

  /** Cached values of {@code layer}. */
  NDArray values(int layer) {
    return values[layer];
  }

  /** Appends this step's keys and values for {@code layer}; returns all keys and values so far. */
  NDArray[] append(int layer, NDArray k, NDArray v) {
    keys[layer] = extend(keys[layer], k);
    values[layer] = extend(values[layer], v);
    return new NDArray[] {keys[layer], values[layer]};
  }

  private NDArray extend(NDArray cached, NDArray step) {
    if (cached == null) {
      NDArray copy = step.duplicate();
      copy.attach(manager);
      return copy;
    }
    NDArray grown = cached.concat(step, 2);
    cached.close();
    return grown;
  }

  @Override
  public void close() {
    manager.close();
  }
}
