package io.marginal.inference.generation;

import static org.awaitility.Awaitility.await;

import io.marginal.inference.TestModels;
import io.marginal.inference.adapters.AdapterRegistry;
import io.marginal.inference.adapters.AdapterVerifier;
import io.marginal.inference.adapters.ServedAdapter;
import io.marginal.inference.adapters.UserAdapterCache;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.MergedAdapters;
import io.marginal.schemas.topics.AdapterScope;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node keeps its batching engines' merge on the shared adapters it serves, within the byte budget. */
class SharedAdapterMergerTest {
  @TempDir Path store;

  @Test
  void followsEveryChangeOfTheSharedAdaptersAndDropsAMergeOverTheBudget() throws Exception {
    try (LanguageModel model = LanguageModel.load(TestModels.tinyCheckpoint());
        TextGeneration generation = TextGeneration.batched(model, 4, 1);
        AdapterRegistry registry = new AdapterRegistry(new UserAdapterCache(1 << 20), new AdapterVerifier(store, "tiny"), model)) {
      ServedAdapter v1 = served(model, "films", 1, LoraConfig.allProjections(2, 4, 0));
      ServedAdapter other = served(model, "style", 1, LoraConfig.allProjections(2, 4, 0));
      long oneSet = MergedAdapters.copyBytes(ActiveAdapters.of(v1.adapter()), model.transformer());
      try (SharedAdapterMerger merger = new SharedAdapterMerger(registry, generation, model, oneSet).start()) {
        assertMerged(generation, List.of());
        registry.activateShared(v1);
        assertMerged(generation, List.of(v1.label()));
        ServedAdapter v2 = served(model, "films", 2, LoraConfig.allProjections(2, 4, 0));
        registry.activateShared(v2); // a swap: v1 retired, v2 merged in its place
        assertMerged(generation, List.of(v2.label()));
        // a second shared adapter on the same groups copies no more: both merged, in the snapshot's order; then withdrawn
        registry.activateShared(other);
        assertMerged(generation, List.of(v2.label(), other.label()));
        registry.withdraw("style");
        assertMerged(generation, List.of(v2.label()));
      }
      try (SharedAdapterMerger tight = new SharedAdapterMerger(registry, generation, model, oneSet - 1).start()) {
        assertMerged(generation, List.of()); // over the budget: what was merged is dropped
      }
    }
  }

  private ServedAdapter served(LanguageModel model, String id, int version, LoraConfig config) {
    LoraAdapter adapter = LoraAdapter.create(id, version, model.config(), config, model.manager(), 7L * version + id.hashCode());
    return new ServedAdapter(id, AdapterScope.parse("shared:" + id), version, adapter.sha256(), adapter, Instant.now());
  }

  private static void assertMerged(TextGeneration generation, List<String> labels) {
    await("engines merged " + labels).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
        .until(() -> generation.mergedAdapters().equals(List.of(labels)));
  }
}
