package io.marginal.inference.adapters;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Loaded per-user adapters within a budget of native memory (bytes of their tensors), least
 * recently used evicted. Keyed by version label (id@version:sha), never by id alone, so a replaced
 * adapter can never be served from a stale entry.
 *
 * <p>Loading (read, checksum, tensor checks) runs on the cache's own loader threads, never on a
 * model worker or the batching engine; concurrent misses of one version share one load, and
 * {@link #prefetch} starts a load without waiting (a user's first request, an adapter event). An
 * evicted adapter is freed once the requests using it finish; the next request of that user loads
 * it again — slower, never wrong. The most recently used entry is kept even when it alone exceeds
 * the budget.
 */
public final class UserAdapterCache implements AutoCloseable {

  private final long budgetBytes;
  private final LinkedHashMap<String, ServedAdapter> entries = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<String, CompletableFuture<ServedAdapter>> loading = new HashMap<>();
  private final ExecutorService loader;
  private long bytes;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder missNanos = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder prefetches = new LongAdder();

  public UserAdapterCache(long budgetBytes) {
    this.budgetBytes = budgetBytes;
    AtomicInteger n = new AtomicInteger();
    this.loader = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "adapter-loader-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * The loaded adapter of {@code version} with a reference taken for the caller (release it),
   * waiting for a load by {@code load} on a miss (started now, or already in flight).
   */
  public ServedAdapter acquire(PublishedVersion version, Function<PublishedVersion, ServedAdapter> load) {
    String key = version.label();
    CompletableFuture<ServedAdapter> pending;
    synchronized (this) {
      ServedAdapter cached = entries.get(key);
      if (cached != null && cached.tryAcquire()) {
        hits.increment();
        return cached;
      }
      misses.increment();
      pending = startLoad(version, load);
    }
    long start = System.nanoTime();
    try {
      while (true) {
        ServedAdapter loaded = pending.join();
        if (loaded.tryAcquire()) {
          return loaded;
        }
        synchronized (this) { // evicted and freed between the load and now: load again
          pending = startLoad(version, load);
        }
      }
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    } finally {
      missNanos.add(System.nanoTime() - start);
    }
  }

  /** Starts loading {@code version} in the background unless it is loaded or loading; never blocks. */
  public synchronized void prefetch(PublishedVersion version, Function<PublishedVersion, ServedAdapter> load) {
    if (!entries.containsKey(version.label()) && !loading.containsKey(version.label())) {
      prefetches.increment();
      startLoad(version, load);
    }
  }

  private CompletableFuture<ServedAdapter> startLoad(PublishedVersion version, Function<PublishedVersion, ServedAdapter> load) {
    String key = version.label();
    CompletableFuture<ServedAdapter> inFlight = loading.get(key);
    if (inFlight != null) {
      return inFlight;
    }
    CompletableFuture<ServedAdapter> f = CompletableFuture.supplyAsync(() -> load.apply(version), loader);
    loading.put(key, f);
    f.whenComplete((adapter, error) -> {
      synchronized (this) {
        loading.remove(key);
        if (adapter != null) {
          insert(adapter);
        }
      }
    });
    return f;
  }

  /** Puts a freshly verified version in (activation warms the cache), replacing older versions of the same adapter. */
  public synchronized void put(ServedAdapter adapter) {
    removeAdapter(adapter.adapterId());
    insert(adapter);
  }

  private void insert(ServedAdapter adapter) {
    ServedAdapter old = entries.put(adapter.label(), adapter);
    if (old != null && old != adapter) {
      bytes -= old.sizeBytes();
      old.retire();
    }
    bytes += adapter.sizeBytes();
    evictBeyondBudget();
  }

  /** Drops every cached version of {@code adapterId} (withdrawn or replaced). */
  public synchronized void removeAdapter(String adapterId) {
    Iterator<Map.Entry<String, ServedAdapter>> it = entries.entrySet().iterator();
    while (it.hasNext()) {
      ServedAdapter a = it.next().getValue();
      if (a.adapterId().equals(adapterId)) {
        it.remove();
        bytes -= a.sizeBytes();
        a.retire();
      }
    }
  }

  private void evictBeyondBudget() {
    Iterator<Map.Entry<String, ServedAdapter>> it = entries.entrySet().iterator();
    while (bytes > budgetBytes && entries.size() > 1 && it.hasNext()) {
      ServedAdapter eldest = it.next().getValue();
      it.remove();
      bytes -= eldest.sizeBytes();
      eldest.retire();
      evictions.increment();
    }
  }

  public synchronized int size() {
    return entries.size();
  }

  /** Native bytes of the adapters held now. */
  public synchronized long bytes() {
    return bytes;
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  public long hits() {
    return hits.sum();
  }

  public long misses() {
    return misses.sum();
  }

  /** Mean time a request waited for its adapter on a miss, in milliseconds (0 before any miss). */
  public double meanMissMillis() {
    long m = misses.sum();
    return m == 0 ? 0 : missNanos.sum() / 1e6 / m;
  }

  /** Total time requests waited for their adapter on misses, in nanoseconds. */
  public long missWaitNanos() {
    return missNanos.sum();
  }

  public long evictions() {
    return evictions.sum();
  }

  public long prefetches() {
    return prefetches.sum();
  }

  public synchronized void clear() {
    entries.values().forEach(ServedAdapter::retire);
    entries.clear();
    bytes = 0;
  }

  @Override
  public void close() {
    loader.shutdownNow();
    clear();
  }
}
