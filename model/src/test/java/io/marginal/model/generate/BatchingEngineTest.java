package io.marginal.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.weights.Projection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continuous batching is exact: sequences decoded together, each with its own adapters (none, one,
 * another of a different rank, both stacked, a masked one), produce the tokens each produces alone
 * through {@link Generator}; and a long run of batched requests leaves no native arrays behind.
 */
class BatchingEngineTest {
  @TempDir Path dir;

  private record Case(int[] prompt, GenerationRequest request, ActiveAdapters adapters) {}

  /**
   * A listener that holds the engine thread at its sequence's first token (counting {@code holding}
   * down) until {@code queued} opens, so that requests submitted meanwhile queue together.
   */
  private static TokenListener holding(java.util.concurrent.CountDownLatch holding, java.util.concurrent.CountDownLatch queued) {
    return (id, delta) -> {
      holding.countDown();
      try {
        return queued.await(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        return false;
      }
    };
  }

  @Test
  void batchedDecodeWithMixedAdaptersMatchesEachSequenceAlone() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 5);
        LoraAdapter a = LoraAdapter.create("a", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 11);
        LoraAdapter b = LoraAdapter.create("b", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.DOWN, Projection.Q),
            model.manager(), 12);
        LoraAdapter masked = LoraAdapter.create("m", 1, model.config(), LoraConfig.of(4, 8, 0, Projection.UP), model.manager(), 13)) {
      TinyModels.randomizeB(a);
      TinyModels.randomizeB(b);
      TinyModels.randomizeB(masked);
      boolean[] half = new boolean[model.config().intermediateSize()];
      for (int i = 0; i < half.length; i += 2) {
        half[i] = true;
      }
      masked.setMask(new LoraTarget(0, Projection.UP), half);
      List<ActiveAdapters> sets = List.of(ActiveAdapters.NONE, ActiveAdapters.of(a), ActiveAdapters.of(b), ActiveAdapters.of(a, b),
          ActiveAdapters.of(masked), ActiveAdapters.of(b, masked));
      List<Case> cases = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        String text = TinyModels.TEXTS.get(i % TinyModels.TEXTS.size()) + (i > 5 ? " again and again" : "");
        GenerationRequest r = i % 4 == 3 ? GenerationRequest.sampling(6 + i, 0.9, 0.95, 100 + i) : GenerationRequest.greedy(6 + i);
        cases.add(new Case(model.tokenizer().encode(text), r.withStopTokenIds(List.of()), sets.get(i % sets.size())));
      }
      List<GenerationResult> alone = new ArrayList<>();
      for (Case c : cases) {
        alone.add(model.generate(c.prompt(), c.request(), c.adapters(), null));
      }
      try (BatchingEngine engine = model.newBatchingEngine(8)) {
        // more requests than the batch holds: later ones are admitted as earlier ones finish
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        for (Case c : cases) {
          futures.add(engine.submit(c.prompt(), c.request(), c.adapters(), null));
        }
        for (int i = 0; i < cases.size(); i++) {
          GenerationResult batched = futures.get(i).get();
          assertArrayEquals(alone.get(i).tokens(), batched.tokens(), "case " + i + " with " + cases.get(i).adapters());
          assertEquals(alone.get(i).finishReason(), batched.finishReason());
          assertEquals(alone.get(i).text(), batched.text());
        }
        assertTrue(engine.meanBatchSize() > 2, "sequences were decoded together: mean batch " + engine.meanBatchSize());
      }
    }
  }

  @Test
  void requestsThatQueuedTogetherArePrefilledInOnePassAndMatchEachAlone() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 7);
        LoraAdapter a = LoraAdapter.create("a", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 21);
        LoraAdapter b = LoraAdapter.create("b", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.V, Projection.GATE),
            model.manager(), 22)) {
      TinyModels.randomizeB(a);
      TinyModels.randomizeB(b);
      List<ActiveAdapters> sets = List.of(ActiveAdapters.NONE, ActiveAdapters.of(a), ActiveAdapters.of(b), ActiveAdapters.of(a, b));
      List<Case> cases = new ArrayList<>();
      for (int i = 0; i < 7; i++) { // prompts of different lengths: the shorter rows are padded
        String text = TinyModels.TEXTS.get(i % TinyModels.TEXTS.size()) + " again".repeat(i);
        GenerationRequest r = i == 5 ? GenerationRequest.sampling(9, 0.9, 0.95, 7) : GenerationRequest.greedy(5 + i);
        cases.add(new Case(model.tokenizer().encode(text), r.withStopTokenIds(List.of()), sets.get(i % sets.size())));
      }
      List<GenerationResult> alone = new ArrayList<>();
      for (Case c : cases) {
        alone.add(model.generate(c.prompt(), c.request(), c.adapters(), null));
      }
      try (BatchingEngine engine = model.newBatchingEngine(8)) {
        // a first request holds the engine thread in its first token while the others queue
        java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch queued = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<GenerationResult> holder = engine.submit(cases.get(0).prompt(), GenerationRequest.greedy(3)
            .withStopTokenIds(List.of()), ActiveAdapters.NONE, holding(holding, queued));
        assertTrue(holding.await(10, java.util.concurrent.TimeUnit.SECONDS), "the holder reached its first token");
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        for (Case c : cases) {
          futures.add(engine.submit(c.prompt(), c.request(), c.adapters(), null));
        }
        queued.countDown();
        holder.get();
        for (int i = 0; i < cases.size(); i++) {
          GenerationResult batched = futures.get(i).get();
          assertArrayEquals(alone.get(i).tokens(), batched.tokens(), "case " + i + " with " + cases.get(i).adapters());
          assertEquals(alone.get(i).text(), batched.text());
        }
        assertEquals(1 + cases.size(), engine.prefills());
        assertEquals(2, engine.prefillPasses(), "the holder alone, then the seven queued requests in one pass");
      }
    }
  }

  @Test
  void aBadRequestAdmittedWithOthersFailsAloneWhileTheOthersAndTheRunningRowsGoOn() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 4)) {
      int[] good = model.tokenizer().encode(TinyModels.TEXTS.get(0));
      int[] other = model.tokenizer().encode(TinyModels.TEXTS.get(1));
      int[] bad = good.clone();
      bad[1] = model.config().vocabSize() + 5; // no such token: the embedding lookup of the step that admits it fails
      GenerationRequest request = GenerationRequest.greedy(6).withStopTokenIds(List.of());
      GenerationResult goodAlone = model.generate(good, request, ActiveAdapters.NONE, null);
      GenerationResult otherAlone = model.generate(other, request, ActiveAdapters.NONE, null);
      try (BatchingEngine engine = model.newBatchingEngine(8)) {
        java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch queued = new java.util.concurrent.CountDownLatch(1);
        CompletableFuture<GenerationResult> running = engine.submit(good, request, ActiveAdapters.NONE, holding(holding, queued));
        assertTrue(holding.await(10, java.util.concurrent.TimeUnit.SECONDS), "the running request reached its first token");
        CompletableFuture<GenerationResult> first = engine.submit(good, request, ActiveAdapters.NONE, null);
        CompletableFuture<GenerationResult> broken = engine.submit(bad, request, ActiveAdapters.NONE, null);
        CompletableFuture<GenerationResult> last = engine.submit(other, request, ActiveAdapters.NONE, null);
        queued.countDown();
        assertArrayEquals(goodAlone.tokens(), running.get().tokens(), "the running row");
        assertArrayEquals(goodAlone.tokens(), first.get().tokens(), "admitted with the bad one, then retried alone");
        assertArrayEquals(otherAlone.tokens(), last.get().tokens());
        java.util.concurrent.ExecutionException failed =
            org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class, broken::get);
        assertTrue(failed.getCause() instanceof RuntimeException, "the bad request's own failure: " + failed.getCause());
        assertEquals(0, engine.activeRows());
        // the engine still serves
        assertArrayEquals(otherAlone.tokens(), engine.submit(other, request, ActiveAdapters.NONE, null).get().tokens());
      }
    }
  }

  @Test
  void aSequenceThatReachesTheContextLengthEndsThereAsAloneWhileAnotherRuns() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, false, 6)) {
      int[] prompt = model.tokenizer().encode(TinyModels.TEXTS.get(2));
      GenerationRequest untilFull = GenerationRequest.greedy(1000).withStopTokenIds(List.of());
      GenerationRequest fiveTokens = GenerationRequest.greedy(5).withStopTokenIds(List.of());
      GenerationResult alone = model.generate(prompt, untilFull, ActiveAdapters.NONE, null);
      assertEquals(FinishReason.CONTEXT_LENGTH, alone.finishReason());
      try (BatchingEngine engine = model.newBatchingEngine(4)) {
        CompletableFuture<GenerationResult> full = engine.submit(prompt, untilFull, ActiveAdapters.NONE, null);
        CompletableFuture<GenerationResult> other = engine.submit(prompt, fiveTokens, ActiveAdapters.NONE, null);
        assertEquals(FinishReason.CONTEXT_LENGTH, full.get().finishReason());
        assertArrayEquals(alone.tokens(), full.get().tokens(), "up to the last position of the context");
        assertEquals(5, other.get().tokens().length);
        // and the engine still serves after a sequence filled the context
        assertArrayEquals(alone.tokens(), engine.submit(prompt, untilFull, ActiveAdapters.NONE, null).get().tokens());
      }
    }
  }

  @Test
  void aGroupIsPrefilledOnceAndEachMemberMatchesItsOwnGeneration() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, false, 9);
        LoraAdapter a = LoraAdapter.create("a", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 3)) {
      TinyModels.randomizeB(a);
      int[] prompt = model.tokenizer().encode("the cat sat on the mat");
      List<GenerationRequest> requests = List.of(GenerationRequest.greedy(10), GenerationRequest.sampling(10, 0.8, 1, 2),
          GenerationRequest.sampling(10, 0.8, 1, 3)).stream().map(r -> r.withStopTokenIds(List.of())).toList();
      List<StringBuilder> streamed = List.of(new StringBuilder(), new StringBuilder(), new StringBuilder());
      try (BatchingEngine engine = model.newBatchingEngine(4)) {
        List<TokenListener> listeners = new ArrayList<>();
        for (StringBuilder s : streamed) {
          listeners.add((id, delta) -> {
            s.append(delta);
            return true;
          });
        }
        List<CompletableFuture<GenerationResult>> group = engine.submitGroup(prompt, requests, ActiveAdapters.of(a), listeners);
        for (int i = 0; i < requests.size(); i++) {
          GenerationResult alone = model.generate(prompt, requests.get(i), ActiveAdapters.of(a), null);
          GenerationResult batched = group.get(i).get();
          assertArrayEquals(alone.tokens(), batched.tokens(), "member " + i);
          assertEquals(batched.text(), streamed.get(i).toString(), "streamed deltas concatenate to the text");
        }
        // a listener that stops after 3 tokens ends only its own sequence
        int[] seen = {0};
        CompletableFuture<GenerationResult> cancelled = engine.submit(prompt, requests.get(0), ActiveAdapters.NONE, (id, d) -> ++seen[0] < 3);
        CompletableFuture<GenerationResult> other = engine.submit(prompt, requests.get(0), ActiveAdapters.NONE, null);
        assertEquals(FinishReason.CANCELLED, cancelled.get().finishReason());
        assertEquals(3, cancelled.get().tokens().length);
        assertEquals(10, other.get().tokens().length);
      }
    }
  }

  @Test
  void twoThousandBatchedRequestsLeaveNoNativeArraysBehind() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 2);
        LoraAdapter a = LoraAdapter.create("a", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 1);
        LoraAdapter b = LoraAdapter.create("b", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.DOWN), model.manager(), 2)) {
      List<ActiveAdapters> sets = List.of(ActiveAdapters.NONE, ActiveAdapters.of(a), ActiveAdapters.of(b), ActiveAdapters.of(a, b));
      int before = openArrays(model);
      long[] rss = new long[3];
      int steady = -1;
      try (BatchingEngine engine = model.newBatchingEngine(6)) {
        for (int round = 0; round < 250; round++) { // 250 rounds x 8 = 2,000 requests
          if (round == 50 || round == 150 || round == 249) {
            rss[round == 50 ? 0 : round == 150 ? 1 : 2] = residentKiB();
          }
          if (round == 50) {
            steady = openArrays(model);
          }
          List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
          for (int i = 0; i < 8; i++) {
            int[] prompt = model.tokenizer().encode(TinyModels.TEXTS.get((round + i) % TinyModels.TEXTS.size()));
            futures.add(engine.submit(prompt, GenerationRequest.greedy(3 + (i % 5)).withStopTokenIds(List.of()),
                sets.get((round + i) % sets.size()), null));
          }
          for (CompletableFuture<GenerationResult> f : futures) {
            f.get();
          }
        }
        assertEquals(0, engine.activeRows());
        // between requests the engine holds its (emptied) cache and the idle adapter sets (4 here, within
        // the budget): nothing per request remains
        assertEquals(4, engine.idleAdapterSets());
        assertEquals(steady, openArrays(model), "open arrays after 400 and after 2,000 batched requests");
      }
      assertEquals(before, openArrays(model), "open arrays after the engine closed");
      // RSS is printed, not asserted: in the shared test JVM it also moves with the Java heap and with whatever
      // the tests before this one left (one CI run grew 981 -> 1,285 MiB here while an isolated run stayed flat
      // at +0.4 %); the native-array count above is the leak check.
      System.out.printf("RSS after 400 / 1,200 / 2,000 requests: %d / %d / %d KiB (heap committed now %d KiB)%n", rss[0], rss[1],
          rss[2], Runtime.getRuntime().totalMemory() / 1024);
    }
  }

  /** VmRSS of this process in KiB, or 0 where /proc is absent. */
  private static long residentKiB() throws java.io.IOException {
    java.nio.file.Path status = java.nio.file.Path.of("/proc/self/status");
    if (!java.nio.file.Files.exists(status)) {
      return 0;
    }
    for (String line : java.nio.file.Files.readAllLines(status)) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return 0;
  }

  private static int openArrays(LanguageModel model) {
    return ((BaseNDManager) model.manager()).getManagedArrays().size();
  }
}
