package io.marginal.inference.adapters;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Loaded per-user adapters, at most {@code slots} of them, least recently used evicted. Keyed by
 * version label (id@version:sha), never by id alone, so a replaced adapter can never be served from
 * a stale entry. An evicted adapter is freed once the requests using it finish; the next request
 * of that user loads it again (verified again) — slower, never wrong.
 */
public final class UserAdapterCache {

  private final int slots;
  private final LinkedHashMap<String, ServedAdapter> entries = new LinkedHashMap<>(16, 0.75f, true);
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder evictions = new LongAdder();

  public UserAdapterCache(int slots) {
    this.slots = slots;
  }

  /**
   * The loaded adapter of {@code version} with a reference taken for the caller (release it), loading
   * it with {@code loader} on a miss. Loading happens outside the lock; two concurrent misses for the
   * same version both load, and the second copy is dropped.
   */
  public ServedAdapter acquire(PublishedVersion version, Function<PublishedVersion, ServedAdapter> loader) {
    String key = version.label();
    synchronized (this) {
      ServedAdapter cached = entries.get(key);
      if (cached != null && cached.tryAcquire()) {
        hits.increment();
        return cached;
      }
    }
    misses.increment();
    ServedAdapter loaded = loader.apply(version);
    synchronized (this) {
      ServedAdapter raced = entries.get(key);
      if (raced != null && raced.tryAcquire()) {
        loaded.retire();
        return raced;
      }
      entries.put(key, loaded);
      loaded.tryAcquire();
      evictBeyondSlots();
      return loaded;
    }
  }

  /** Puts a freshly verified version in (activation warms the cache), replacing older versions of the same adapter. */
  public synchronized void put(ServedAdapter adapter) {
    removeAdapter(adapter.adapterId());
    entries.put(adapter.label(), adapter);
    evictBeyondSlots();
  }

  /** Drops every cached version of {@code adapterId} (withdrawn or replaced). */
  public synchronized void removeAdapter(String adapterId) {
    Iterator<Map.Entry<String, ServedAdapter>> it = entries.entrySet().iterator();
    while (it.hasNext()) {
      ServedAdapter a = it.next().getValue();
      if (a.adapterId().equals(adapterId)) {
        it.remove();
        a.retire();
      }
    }
  }

  private void evictBeyondSlots() {
    Iterator<Map.Entry<String, ServedAdapter>> it = entries.entrySet().iterator();
    while (entries.size() > slots && it.hasNext()) {
      ServedAdapter eldest = it.next().getValue();
      it.remove();
      eldest.retire();
      evictions.increment();
    }
  }

  public synchronized int size() {
    return entries.size();
  }

  public int slots() {
    return slots;
  }

  public long hits() {
    return hits.sum();
  }

  public long misses() {
    return misses.sum();
  }

  public long evictions() {
    return evictions.sum();
  }

  public synchronized void clear() {
    entries.values().forEach(ServedAdapter::retire);
    entries.clear();
  }
}
