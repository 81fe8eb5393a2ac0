package io.marginal.inference.adapters;

import io.marginal.schemas.topics.AdapterScope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.marginal.model.config.ModelConfig;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.weights.Projection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The per-user adapter cache keeps a byte budget, loads each version once however many ask, and prefetches without blocking. */
class UserAdapterCacheTest {

  private static final ModelConfig BASE = new ModelConfig("LlamaForCausalLM", "llama", 64, 128, 2, 4, 2, 16, 64, 1e-5, 10000.0,
      null, 512, true, false, -1, List.of(2));
  private final NDManager manager = NDManager.newBaseManager();

  @AfterEach
  void close() {
    manager.close();
  }

  private ServedAdapter load(PublishedVersion v) {
    LoraAdapter a = LoraAdapter.create(v.adapterId(), v.version(), BASE, LoraConfig.of(4, 8, 0, Projection.DOWN), manager, 1);
    a.useFileSha256(v.sha256());
    return new ServedAdapter(v.adapterId(), v.scope(), v.version(), v.sha256(), a, Instant.now());
  }

  private static PublishedVersion version(String user) {
    return new PublishedVersion("user-" + user, new AdapterScope(AdapterScope.Kind.USER, user), 1, "ab".repeat(32), null);
  }

  @Test
  void evictsLeastRecentlyUsedBeyondTheByteBudget() {
    long one = load(version("probe")).sizeBytes(); // 2 layers x down_proj, rank 4: (4x128 + 64x4) floats
    assertEquals(2 * (4 * 128 + 64 * 4) * 4L, one);
    try (UserAdapterCache cache = new UserAdapterCache(3 * one)) {
      List<ServedAdapter> held = new ArrayList<>();
      for (String u : List.of("a", "b", "c")) {
        held.add(cache.acquire(version(u), this::load));
      }
      held.forEach(ServedAdapter::release);
      assertEquals(3, cache.size());
      assertEquals(3 * one, cache.bytes());
      cache.acquire(version("a"), this::load).release(); // a is now the most recent
      cache.acquire(version("d"), this::load).release(); // over budget: b (least recent) goes
      assertEquals(3, cache.size());
      assertEquals(1, cache.evictions());
      assertTrue(held.get(1).isFreed(), "the evicted adapter is freed once no request holds it");
      assertTrue(!held.get(0).isFreed() && !held.get(2).isFreed());
      assertEquals(1, cache.hits());
      assertEquals(4, cache.misses());
    }
  }

  @Test
  void concurrentMissesOfOneVersionShareOneLoad() throws Exception {
    AtomicInteger loads = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    Function<PublishedVersion, ServedAdapter> slowLoad = v -> {
      loads.incrementAndGet();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return load(v);
    };
    ExecutorService requests = Executors.newFixedThreadPool(6);
    try (UserAdapterCache cache = new UserAdapterCache(1 << 20)) {
      cache.prefetch(version("a"), slowLoad); // returns at once
      List<Future<ServedAdapter>> waiting = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        waiting.add(requests.submit(() -> cache.acquire(version("a"), slowLoad)));
      }
      Thread.sleep(100); // let them all block on the in-flight load
      release.countDown();
      ServedAdapter first = waiting.get(0).get();
      for (Future<ServedAdapter> f : waiting) {
        assertSame(first, f.get());
        f.get().release();
      }
      assertEquals(1, loads.get(), "one load for a prefetch and six concurrent misses");
      assertEquals(1, cache.prefetches());
      assertEquals(1, cache.size());
    } finally {
      requests.shutdownNow();
    }
  }
}
