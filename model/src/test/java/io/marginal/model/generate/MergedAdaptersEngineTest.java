package io.marginal.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.ConcatenatedLora;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.MergedAdapters;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.transformer.NoGradScope;
import io.marginal.model.weights.FusedProjections;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.ProjectionGroup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shared adapters merged into the weights a batching engine steps with ({@link MergedAdapters}, {@link BatchingEngine#merge}). */
class MergedAdaptersEngineTest {
  @TempDir Path dir;

  private record Case(int[] prompt, GenerationRequest request, ActiveAdapters adapters) {}

  @Test
  void mergedWeightsPlusEachResidualEqualTheBaseWeightsPlusTheRequestsAdapters() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, false, 3);
        LoraAdapter shared = LoraAdapter.create("shared", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 31);
        LoraAdapter own = LoraAdapter.create("own", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.DOWN, Projection.V),
            model.manager(), 32);
        NoGradScope noGrad = NoGradScope.open();
        NDManager m = model.manager().newSubManager()) {
      TinyModels.randomizeB(shared);
      TinyModels.randomizeB(own);
      boolean[] half = new boolean[model.config().intermediateSize()]; // a masked adapter, as the unlearning trainer makes
      for (int i = 0; i < half.length; i += 2) {
        half[i] = true;
      }
      shared.setMask(new io.marginal.model.lora.LoraTarget(0, Projection.UP), half);
      try (MergedAdapters merged = MergedAdapters.of(ActiveAdapters.of(shared), model.transformer(), m)) {
        assertTrue(merged.sizeBytes() > 0);
        assertEquals(merged.sizeBytes(), MergedAdapters.copyBytes(ActiveAdapters.of(shared), model.transformer()), "known before building");
        try (MergedAdapters downOnly = MergedAdapters.of(ActiveAdapters.of(own), model.transformer(), m)) {
          // own adapts v and down: the q|k|v and down groups of every layer are copied, o and gate|up shared
          long expected = 0;
          for (int layer = 0; layer < model.config().numHiddenLayers(); layer++) {
            for (ProjectionGroup g : List.of(ProjectionGroup.QKV, ProjectionGroup.DOWN)) {
              expected += model.transformer().weights().fused(layer).weight(g).getShape().size() * 4;
            }
            assertTrue(downOnly.projections().get(layer).weight(ProjectionGroup.O)
                == model.transformer().weights().fused(layer).weight(ProjectionGroup.O), "an untouched group is not copied");
          }
          assertEquals(expected, downOnly.sizeBytes());
          assertEquals(expected, MergedAdapters.copyBytes(ActiveAdapters.of(own), model.transformer()));
        }
        for (ActiveAdapters request : List.of(ActiveAdapters.NONE, ActiveAdapters.of(shared), ActiveAdapters.of(shared, own),
            ActiveAdapters.of(own))) {
          try (ConcatenatedLora residual = merged.residual(request, m); ConcatenatedLora full = ConcatenatedLora.of(request, model.config(), m);
              NDManager scratch = m.newSubManager()) {
            assertEquals(request.adapters().equals(List.of(shared)), residual.isEmpty(), "residual of " + request);
            for (int layer = 0; layer < model.config().numHiddenLayers(); layer++) {
              FusedProjections base = model.transformer().weights().fused(layer);
              FusedProjections mine = merged.projections().get(layer);
              for (ProjectionGroup g : ProjectionGroup.values()) {
                long in = base.transposed(g).getShape().get(0);
                NDArray x = scratch.randomNormal(new Shape(3, 1, in));
                NDArray expected = add(x.matMul(base.transposed(g)), full.uniform().groupDelta(layer, g, x, null));
                NDArray actual = add(x.matMul(mine.transposed(g)), residual.uniform().groupDelta(layer, g, x, null));
                float diff = expected.sub(actual).abs().max().getFloat();
                float size = expected.abs().max().getFloat();
                assertTrue(diff <= 1e-5f * Math.max(1, size), request + " layer " + layer + " " + g + ": max |diff| " + diff);
              }
            }
          }
        }
        // the merge touched every group (the shared adapter adapts all projections); an unmerged model's weights did not change
        assertFalse(merged.projections().get(0).weight(ProjectionGroup.DOWN) == model.transformer().weights().fused(0).weight(ProjectionGroup.DOWN));
      }
    }
  }

  private static NDArray add(NDArray out, NDArray delta) {
    return delta == null ? out : out.add(delta);
  }

  @Test
  void anEngineWithASharedAdapterMergedGivesEveryRequestTheTokensItGetsAlone() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 5);
        LoraAdapter shared = LoraAdapter.create("shared", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 41);
        LoraAdapter sharedV2 = LoraAdapter.create("shared", 2, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 42);
        LoraAdapter own = LoraAdapter.create("own", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.DOWN, Projection.Q),
            model.manager(), 43)) {
      TinyModels.randomizeB(shared);
      TinyModels.randomizeB(sharedV2);
      TinyModels.randomizeB(own);
      boolean[] some = new boolean[model.config().intermediateSize()]; // v1 masked, as the unlearning trainer makes them
      for (int i = 0; i < some.length; i += 3) {
        some[i] = true;
      }
      shared.setMask(new io.marginal.model.lora.LoraTarget(1, Projection.UP), some);
      // every kind of request against a merge of `shared`: exactly it, it plus an own adapter, the bare base
      // model, an own adapter alone, a request pinned to the next version (and the other way round after the swap)
      List<ActiveAdapters> sets = List.of(ActiveAdapters.of(shared), ActiveAdapters.of(shared, own), ActiveAdapters.NONE,
          ActiveAdapters.of(own), ActiveAdapters.of(sharedV2, own));
      List<Case> cases = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        String text = TinyModels.TEXTS.get(i % TinyModels.TEXTS.size()) + (i > 4 ? " and once more" : "");
        GenerationRequest r = i % 4 == 3 ? GenerationRequest.sampling(8 + i, 0.9, 0.95, 200 + i) : GenerationRequest.greedy(8 + i);
        cases.add(new Case(model.tokenizer().encode(text), r.withStopTokenIds(List.of()), sets.get(i % sets.size())));
      }
      List<GenerationResult> alone = new ArrayList<>();
      for (Case c : cases) {
        alone.add(model.generate(c.prompt(), c.request(), c.adapters(), null));
      }
      assertFalse(java.util.Arrays.equals(alone.get(0).tokens(),
          model.generate(cases.get(0).prompt(), cases.get(0).request(), ActiveAdapters.NONE, null).tokens()),
          "the shared adapter changes the answer");
      try (BatchingEngine engine = model.newBatchingEngine(8)) {
        assertEquals(List.of(), engine.mergedAdapters());
        engine.merge(ActiveAdapters.of(shared)).get(10, TimeUnit.SECONDS);
        assertEquals(List.of(shared.identity()), engine.mergedAdapters());
        assertAllMatch(alone, cases, submitAll(engine, cases));

        // a swap to the next version while requests run and others queue: rebuilt relative to it between two steps
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch queued = new CountDownLatch(1);
        CompletableFuture<GenerationResult> holder = engine.submit(cases.get(1).prompt(), cases.get(1).request(),
            cases.get(1).adapters(), (id, delta) -> {
              holding.countDown();
              try {
                return queued.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                return false;
              }
            });
        assertTrue(holding.await(10, TimeUnit.SECONDS), "the first request runs");
        List<CompletableFuture<GenerationResult>> queuedFutures = submitAll(engine, cases);
        CompletableFuture<Void> swapped = engine.merge(ActiveAdapters.of(sharedV2));
        assertFalse(swapped.isDone(), "taken only between steps");
        queued.countDown();
        swapped.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(sharedV2.identity()), engine.mergedAdapters());
        assertArrayEquals(alone.get(1).tokens(), holder.get().tokens(), "the row that ran across the swap");
        assertAllMatch(alone, cases, queuedFutures);

        // nothing merged again: every request still gets its own answer
        engine.merge(ActiveAdapters.NONE).get(10, TimeUnit.SECONDS);
        assertEquals(List.of(), engine.mergedAdapters());
        assertAllMatch(alone, cases, submitAll(engine, cases));
      }
    }
  }

  @Test
  void mergingAndUnmergingAgainAndAgainLeavesNoNativeArraysBehind() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, false, 8);
        LoraAdapter shared = LoraAdapter.create("shared", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 51);
        LoraAdapter own = LoraAdapter.create("own", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.DOWN), model.manager(), 52)) {
      List<ActiveAdapters> sets = List.of(ActiveAdapters.of(shared), ActiveAdapters.of(shared, own), ActiveAdapters.NONE);
      int[] prompt = model.tokenizer().encode(TinyModels.TEXTS.get(0));
      GenerationRequest request = GenerationRequest.greedy(4).withStopTokenIds(List.of());
      int before = openArrays(model);
      int steady = -1;
      try (BatchingEngine engine = model.newBatchingEngine(4)) {
        for (int cycle = 0; cycle < 30; cycle++) {
          if (cycle == 5) {
            steady = openArrays(model);
          }
          for (ActiveAdapters merge : List.of(ActiveAdapters.of(shared), ActiveAdapters.NONE)) {
            List<CompletableFuture<GenerationResult>> running = new ArrayList<>();
            for (ActiveAdapters set : sets) {
              running.add(engine.submit(prompt, request, set, null));
            }
            engine.merge(merge).get(10, TimeUnit.SECONDS); // taken while those requests run or queue
            for (CompletableFuture<GenerationResult> f : running) {
              assertEquals(4, f.get(30, TimeUnit.SECONDS).tokens().length);
            }
          }
        }
        assertEquals(List.of(), engine.mergedAdapters());
        // only the sets relative to the weights in use stay idle: one per kind of request
        assertEquals(sets.size(), engine.idleAdapterSets());
        assertEquals(steady, openArrays(model), "open arrays after 5 and after 30 merge-unmerge cycles");
      }
      assertEquals(before, openArrays(model), "open arrays after the engine closed");
    }
  }

  private static int openArrays(LanguageModel model) {
    return ((ai.djl.ndarray.BaseNDManager) model.manager()).getManagedArrays().size();
  }

  private static List<CompletableFuture<GenerationResult>> submitAll(BatchingEngine engine, List<Case> cases) {
    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
    for (Case c : cases) {
      futures.add(engine.submit(c.prompt(), c.request(), c.adapters(), null));
    }
    return futures;
  }

  private static void assertAllMatch(List<GenerationResult> alone, List<Case> cases, List<CompletableFuture<GenerationResult>> futures)
      throws Exception {
    for (int i = 0; i < cases.size(); i++) {
      assertArrayEquals(alone.get(i).tokens(), futures.get(i).get(30, TimeUnit.SECONDS).tokens(), "case " + i + " with " + cases.get(i).adapters());
    }
  }
}
