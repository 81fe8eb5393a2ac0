package io.marginal.model.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.LanguageModel;
import io.marginal.model.generate.FinishReason;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.generate.GenerationResult;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.testing.TinyModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Incremental decoding with the KV cache must give the same tokens as recomputing everything. */
class KvCacheTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "withAdapter={0}")
  @ValueSource(booleans = {false, true})
  void cachedDecodingEqualsUncachedTokenForToken(boolean withAdapter) {
    try (LanguageModel model = TinyModels.load(dir, true, 5)) {
      ActiveAdapters adapters = ActiveAdapters.NONE;
      LoraAdapter adapter = null;
      if (withAdapter) {
        adapter = LoraAdapter.create("a", 1, model.config(), LoraConfig.allProjections(4, 8, 0), model.manager(), 1);
        io.marginal.model.testing.TinyModels.randomizeB(adapter);
        adapters = ActiveAdapters.of(adapter);
      }
      int[] prompt = {4, 7, 9, 12, 3};
      int n = 24;
      GenerationResult cached = model.generate(prompt, GenerationRequest.greedy(n).withStopTokenIds(List.of()), adapters, null);
      assertEquals(n, cached.tokens().length);
      assertEquals(FinishReason.MAX_TOKENS, cached.finishReason());

      int[] sequence = prompt.clone();
      int[] uncached = new int[n];
      for (int i = 0; i < n; i++) {
        try (NDManager m = model.manager().newSubManager()) {
          NDArray hidden = model.transformer().forward(m.create(sequence).reshape(1, sequence.length), 0, null,
              ForwardOptions.inference(adapters));
          float[] logits = model.transformer().logits(Transformer.lastPosition(hidden)).toFloatArray();
          int best = 0;
          for (int j = 1; j < logits.length; j++) {
            if (logits[j] > logits[best]) {
              best = j;
            }
          }
          uncached[i] = best;
          sequence = Arrays.copyOf(sequence, sequence.length + 1);
          sequence[sequence.length - 1] = best;
        }
      }
      assertArrayEquals(uncached, cached.tokens());
      if (adapter != null) {
        adapter.close();
      }
    }
  }

  @ParameterizedTest(name = "chunk={0}")
  @ValueSource(ints = {1, 3})
  void cachedHiddenStatesEqualFullPass(int chunk) {
    try (LanguageModel model = TinyModels.load(dir, false, 9); NDManager m = model.manager().newSubManager()) {
      int[] tokens = {3, 14, 15, 9, 26, 5, 35, 8, 9};
      float[] full = model.transformer().forward(m.create(tokens).reshape(1, tokens.length), 0, null, ForwardOptions.INFERENCE)
          .toFloatArray();
      try (KvCache cache = new KvCache(m, model.config().numHiddenLayers())) {
        int h = model.config().hiddenSize();
        for (int start = 0; start < tokens.length; start += chunk) {
          int end = Math.min(tokens.length, start + chunk);
          float[] part = model.transformer().forward(m.create(Arrays.copyOfRange(tokens, start, end)).reshape(1, end - start),
              start, cache, ForwardOptions.INFERENCE).toFloatArray();
          assertArrayEquals(Arrays.copyOfRange(full, start * h, end * h), part, 2e-5f, "positions " + start + ".." + end);
        }
        assertEquals(tokens.length, cache.length());
      }
    }
  }
}
