package io.marginal.model.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.testing.ReferenceLlama;
import io.marginal.model.testing.TinyModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The NDArray forward pass against plain Java loops (RMSNorm, GQA attention with RoPE, SwiGLU, bias, tying). */
class ReferenceForwardTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "qwen2={0}")
  @ValueSource(booleans = {false, true})
  void forwardMatchesPlainJavaReference(boolean qwen) {
    try (LanguageModel model = TinyModels.load(dir, qwen, 7)) {
      ReferenceLlama reference = new ReferenceLlama(model.transformer().weights());
      int[] tokens = {5, 9, 3, 17, 22, 8, 30, 1, 12};
      double[][] expected = reference.forward(tokens);
      try (NDManager m = model.manager().newSubManager()) {
        NDArray hidden = model.transformer().forward(m.create(tokens).reshape(1, tokens.length), 0, null, ForwardOptions.INFERENCE);
        float[] actual = hidden.toFloatArray();
        int h = model.config().hiddenSize();
        for (int i = 0; i < tokens.length; i++) {
          for (int j = 0; j < h; j++) {
            assertEquals(expected[i][j], actual[i * h + j], 2e-4, "hidden[" + i + "][" + j + "]");
          }
        }
        float[] logits = model.transformer().logits(hidden).toFloatArray();
        double[] last = reference.logits(expected[tokens.length - 1]);
        int v = model.config().vocabSize();
        for (int j = 0; j < v; j++) {
          assertEquals(last[j], logits[(tokens.length - 1) * v + j], 2e-4, "logit " + j);
        }
      }
    }
  }

  @ParameterizedTest(name = "qwen2={0}")
  @ValueSource(booleans = {false, true})
  void batchedRowsEqualSingleRows(boolean qwen) {
    try (LanguageModel model = TinyModels.load(dir, qwen, 11); NDManager m = model.manager().newSubManager()) {
      int[] a = {4, 5, 6, 7};
      int[] b = {8, 9, 10, 11};
      float[] batched = model.transformer().forward(m.create(new int[] {4, 5, 6, 7, 8, 9, 10, 11}).reshape(2, 4), 0, null,
          ForwardOptions.INFERENCE).toFloatArray();
      float[] first = model.transformer().forward(m.create(a).reshape(1, 4), 0, null, ForwardOptions.INFERENCE).toFloatArray();
      float[] second = model.transformer().forward(m.create(b).reshape(1, 4), 0, null, ForwardOptions.INFERENCE).toFloatArray();
      float[] both = new float[batched.length];
      System.arraycopy(first, 0, both, 0, first.length);
      System.arraycopy(second, 0, both, first.length, second.length);
      assertArrayEquals(both, batched, 1e-5f);
    }
  }

  /**
   * Inference without hooks runs each projection group as one product and rotates q|k|v at once; with
   * a hook (probes, gradients with respect to activations) every projection runs on its own. Both
   * must give the same hidden states: a prompt, then a token on its cache, with and without a LoRA.
   */
  @ParameterizedTest(name = "qwen2={0}")
  @ValueSource(booleans = {false, true})
  void fusedInferenceEqualsThePerProjectionPath(boolean qwen) {
    try (LanguageModel model = TinyModels.load(dir, qwen, 13);
        LoraAdapter adapter = LoraAdapter.create("a", 1, model.config(), LoraConfig.allProjections(4, 8, 0.0), model.manager(), 5)) {
      TinyModels.randomizeB(adapter);
      Transformer t = model.transformer();
      ModuleHook watching = (layer, point, output) -> output; // not NONE: takes the per-projection path
      int[] longer = new int[70]; // past the length up to which rotation tables are made on the Java heap
      for (int i = 0; i < longer.length; i++) {
        longer[i] = 1 + (i * 7) % 30;
      }
      for (int[] prompt : List.of(new int[] {5, 9, 3, 17, 22, 8, 30}, longer)) {
        for (ProjectionAdapter adapters : List.of(ProjectionAdapter.NONE, ActiveAdapters.of(adapter))) {
          try (NDManager m = model.manager().newSubManager()) {
            ForwardOptions fused = ForwardOptions.inference(adapters);
            ForwardOptions plain = fused.withHook(watching);
            KvCache fusedCache = new KvCache(m, model.config().numHiddenLayers());
            KvCache plainCache = new KvCache(m, model.config().numHiddenLayers());
            float[] a = t.forward(m.create(prompt).reshape(1, prompt.length), 0, fusedCache, fused).toFloatArray();
            float[] b = t.forward(m.create(prompt).reshape(1, prompt.length), 0, plainCache, plain).toFloatArray();
            assertArrayEquals(b, a, 1e-5f, prompt.length + "-token prompt, adapters " + adapters);
            float[] c = t.forward(m.create(new int[] {11}).reshape(1, 1), prompt.length, fusedCache, fused).toFloatArray();
            float[] d = t.forward(m.create(new int[] {11}).reshape(1, 1), prompt.length, plainCache, plain).toFloatArray();
            assertArrayEquals(d, c, 1e-5f, "a token on the cache, adapters " + adapters);
            float[] base = t.forward(m.create(prompt).reshape(1, prompt.length), 0, null, ForwardOptions.INFERENCE).toFloatArray();
            if (adapters != ProjectionAdapter.NONE) { // the adapter is not a no-op, so the comparison above covers its update
              assertTrue(maxDifference(base, a) > 1e-3, "the adapter changes nothing");
            }
          }
        }
      }
    }
  }

  private static double maxDifference(float[] x, float[] y) {
    double max = 0;
    for (int i = 0; i < x.length; i++) {
      max = Math.max(max, Math.abs(x[i] - y[i]));
    }
    return max;
  }
}
