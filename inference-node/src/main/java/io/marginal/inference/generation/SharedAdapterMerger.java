package io.marginal.inference.generation;

import io.marginal.inference.adapters.AdapterLease;
import io.marginal.inference.adapters.AdapterRegistry;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.MergedAdapters;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the batching engines' merged weights on the shared adapters the node serves: after every
 * change of them ({@link AdapterRegistry#onSharedChange}) it merges the current set, on a thread of
 * its own (building the copies blocks; swaps and requests never wait for it). Changes that arrive
 * while a merge is being built are folded into the next one, which reads the set then current.
 * Until a merge lands, requests are served relative to the previous one: the same answers, at
 * the previous cost. A set whose copies would take more than the byte budget is not merged (the
 * engines drop what they merged before, so nobody pays for negated factors), with a warning.
 */
public final class SharedAdapterMerger implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SharedAdapterMerger.class);

  private final AdapterRegistry registry;
  private final TextGeneration generation;
  private final LanguageModel model;
  private final long maxBytes;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "adapter-merge");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean scheduled = new AtomicBoolean();
  /** Labels of the last merge logged (the merge thread only); none at start. */
  private java.util.List<String> lastMerged = java.util.List.of();

  /** Merges for {@code generation}'s engines, each merge's copies at most {@code maxBytes} (per engine). */
  public SharedAdapterMerger(AdapterRegistry registry, TextGeneration generation, LanguageModel model, long maxBytes) {
    this.registry = registry;
    this.generation = generation;
    this.model = model;
    this.maxBytes = maxBytes;
  }

  /** Listens to the registry and merges what it serves now. */
  public SharedAdapterMerger start() {
    registry.onSharedChange(this::changed);
    changed();
    return this;
  }

  /** Schedules a merge of the shared adapters served when it runs (one at a time; never blocks). */
  public void changed() {
    if (scheduled.compareAndSet(false, true)) {
      try {
        thread.execute(this::mergeCurrent);
      } catch (RejectedExecutionException closed) {
        scheduled.set(false);
      }
    }
  }

  private void mergeCurrent() {
    scheduled.set(false); // a change from now on schedules another merge, which will read it
    try (AdapterLease lease = registry.leaseShared()) {
      long start = System.nanoTime();
      long bytes = MergedAdapters.copyBytes(lease.active(), model.transformer());
      boolean fits = bytes <= maxBytes;
      generation.mergeShared(fits ? lease.active() : ActiveAdapters.NONE);
      if (!lease.labels().equals(lastMerged)) {
        if (fits) {
          LOG.info("shared adapters {} merged for the batching engines ({} MiB of copies per engine) in {} ms", lease.labels(),
              bytes >> 20, (System.nanoTime() - start) / 1_000_000);
        } else {
          LOG.warn("shared adapters {} not merged: their copies would take {} MiB per engine, over MARGINAL_MERGE_SHARED_MAX_BYTES"
              + " ({} MiB); every request applies them per step instead", lease.labels(), bytes >> 20, maxBytes >> 20);
        }
        lastMerged = lease.labels();
      }
    } catch (RuntimeException e) {
      // requests are still served right, relative to the previous merge
      LOG.warn("merging the shared adapters failed; requests stay served relative to the previous merge: {}", e.toString(), e);
    }
  }

  @Override
  public void close() {
    registry.onSharedChange(() -> { });
    thread.shutdownNow();
    try {
      thread.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
