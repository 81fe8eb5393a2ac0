package io.marginal.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.BaseNDManager;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.probe.ActivationRecorder;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.tokenizer.ChatMessage;
import io.marginal.model.training.LoraTrainingStep;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.HookPoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No NDArray outlives its request: the model's manager holds as many arrays after N requests as before. */
class LeakTest {
  @TempDir Path dir;

  static int openArrays(LanguageModel model) {
    return ((BaseNDManager) model.manager()).getManagedArrays().size();
  }

  @Test
  void requestsLeaveNoArraysBehind() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 2);
        LoraAdapter adapter = LoraAdapter.create("a", 1, model.config(), LoraConfig.allProjections(4, 8, 0.1), model.manager(), 1)) {
      TinyModels.randomizeB(adapter);
      adapter.setMask(new io.marginal.model.lora.LoraTarget(0, io.marginal.model.weights.Projection.UP),
          new boolean[model.config().intermediateSize()]);
      ActiveAdapters adapters = ActiveAdapters.of(adapter);
      Runnable requests = () -> {
        model.chat(List.of(ChatMessage.user("hello there")), GenerationRequest.sampling(12, 0.7, 0.9, 3), adapters, null);
        model.generate(new int[] {4, 5}, GenerationRequest.greedy(8).withStopTokenIds(List.of()), ActiveAdapters.NONE, null);
        model.embed("the cat sat on the mat");
        model.embedBatch(List.of("the cat", "", "sat on the mat today"));
        model.logProb("hello there", "how are you", adapters);
        model.hiddenStates("one two three", adapters);
        model.record("one two three", adapters, new ActivationRecorder(Set.of(HookPoint.MLP_ACTIVATION, HookPoint.Q)));
        adapter.sha256();
        adapter.contentChanged();
      };
      requests.run(); // warm-up: anything created once (lazily) is created now
      int before = openArrays(model);
      for (int i = 0; i < 5; i++) {
        requests.run();
      }
      ExecutorService pool = Executors.newFixedThreadPool(3);
      try {
        List<Future<?>> futures = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
          futures.add(pool.submit(requests));
        }
        for (Future<?> f : futures) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
      assertEquals(before, openArrays(model), "open arrays after 11 rounds of requests");

      // Training steps: optimizer state is created once, then steps leave nothing behind.
      try (LoraTrainingStep trainer = LoraTrainingStep.adam(model.manager(), List.of(adapter), 1e-3f)) {
        var batch = List.of(model.continuation("hello there", "how are you"));
        trainer.step(s -> model.sequenceLogProbs(s, batch, new ForwardOptions(adapters, true, null)).sum().neg());
        int afterFirstStep = openArrays(model);
        for (int i = 0; i < 5; i++) {
          trainer.step(s -> model.sequenceLogProbs(s, batch, new ForwardOptions(adapters, true, null)).sum().neg());
        }
        assertEquals(afterFirstStep, openArrays(model), "open arrays after 5 training steps");
      }
      adapter.setTrainable(false);
    }
  }
}
