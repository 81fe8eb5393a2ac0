package io.marginal.model.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.LanguageModel;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.HookPoint;
import io.marginal.model.transformer.ModuleHook;
import io.marginal.model.weights.Projection;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraTest {
  @TempDir Path dir;
  LanguageModel model;
  final int[] tokens = {3, 8, 13, 21, 5, 2};

  @BeforeEach
  void load() {
    model = TinyModels.load(dir, true, 21);
  }

  @AfterEach
  void close() {
    model.close();
  }

  /** Runs a forward pass and returns every hook point's output, keyed "layer.POINT". */
  Map<String, float[]> outputs(ActiveAdapters adapters) {
    Map<String, float[]> out = new HashMap<>();
    ModuleHook hook = (layer, point, x) -> {
      out.put(layer + "." + point, x.toFloatArray());
      return x;
    };
    try (NDManager m = model.manager().newSubManager()) {
      NDArray hidden = model.transformer().forward(m.create(tokens).reshape(1, tokens.length), 0, null,
          new ForwardOptions(adapters, false, hook));
      out.put("logits", model.transformer().logits(hidden).toFloatArray());
    }
    return out;
  }

  @Test
  void freshAdapterWithZeroBIsANoOp() {
    try (LoraAdapter adapter = LoraAdapter.create("zero", 1, model.config(), LoraConfig.allProjections(8, 16, 0.1),
        model.manager(), 3)) {
      Map<String, float[]> base = outputs(ActiveAdapters.NONE);
      Map<String, float[]> adapted = outputs(ActiveAdapters.of(adapter));
      for (String key : base.keySet()) {
        assertArrayEquals(base.get(key), adapted.get(key), 0f, key);
      }
    }
  }

  @Test
  void nonZeroAdapterChangesOutput() {
    try (LoraAdapter adapter = LoraAdapter.create("x", 1, model.config(), LoraConfig.of(4, 8, 0, Projection.V), model.manager(), 3)) {
      io.marginal.model.testing.TinyModels.randomizeB(adapter);
      assertNotEquals(java.util.Arrays.toString(outputs(ActiveAdapters.NONE).get("logits")),
          java.util.Arrays.toString(outputs(ActiveAdapters.of(adapter)).get("logits")));
    }
  }

  @Test
  void maskedAdapterChangesOnlyMaskedNeurons() {
    LoraTarget target = new LoraTarget(0, Projection.UP);
    try (LoraAdapter adapter = LoraAdapter.create("masked", 1, model.config(), LoraConfig.of(4, 8, 0, Projection.UP),
        model.manager(), 4)) {
      io.marginal.model.testing.TinyModels.randomizeB(adapter);
      int width = Projection.UP.outFeatures(model.config());
      boolean[] mask = new boolean[width];
      for (int i = 0; i < width; i += 5) {
        mask[i] = true;
      }
      adapter.setMask(target, mask);
      adapter.setMask(new LoraTarget(1, Projection.UP), new boolean[width]); // layer 1: nothing may change
      float[] before = outputs(ActiveAdapters.NONE).get("0." + HookPoint.UP);
      float[] after = outputs(ActiveAdapters.of(adapter)).get("0." + HookPoint.UP);
      int changed = 0;
      for (int i = 0; i < before.length; i++) {
        int neuron = i % width;
        if (mask[neuron]) {
          changed += before[i] != after[i] ? 1 : 0;
        } else {
          assertEquals(before[i], after[i], 0f, "unmasked neuron " + neuron + " changed");
        }
      }
      assertTrue(changed > 0, "masked neurons should change");
      float[] layer1Delta;
      try (NDManager m = model.manager().newSubManager()) {
        layer1Delta = adapter.delta(1, Projection.UP, m.randomNormal(new ai.djl.ndarray.types.Shape(1, 3, model.config().hiddenSize())), false)
            .toFloatArray();
      }
      for (float f : layer1Delta) {
        assertEquals(0f, f, 0f);
      }
    }
  }

  @Test
  void stackedAdaptersAddTheirUpdates() {
    try (LoraAdapter a = LoraAdapter.create("shared", 1, model.config(), LoraConfig.of(4, 8, 0, Projection.Q, Projection.DOWN), model.manager(), 5);
        LoraAdapter b = LoraAdapter.create("user", 1, model.config(), LoraConfig.of(2, 4, 0, Projection.Q, Projection.O), model.manager(), 6);
        NDManager m = model.manager().newSubManager()) {
      io.marginal.model.testing.TinyModels.randomizeB(a);
      io.marginal.model.testing.TinyModels.randomizeB(b);
      NDArray x = m.randomNormal(new ai.djl.ndarray.types.Shape(1, 3, model.config().hiddenSize()));
      float[] both = ActiveAdapters.of(a, b).delta(0, Projection.Q, x, false).toFloatArray();
      float[] sum = a.delta(0, Projection.Q, x, false).add(b.delta(0, Projection.Q, x, false)).toFloatArray();
      assertArrayEquals(sum, both, 1e-6f);
      assertTrue(ActiveAdapters.of(a, b).cacheKey().startsWith("shared@1:"));
      assertTrue(ActiveAdapters.of(a, b).cacheKey().contains("+user@1:"));
    }
  }

  @Test
  void maskOfWrongWidthIsRefused() {
    try (LoraAdapter a = LoraAdapter.create("a", 1, model.config(), LoraConfig.of(4, 8, 0, Projection.Q), model.manager(), 5)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> a.setMask(new LoraTarget(0, Projection.Q), new boolean[3]));
      assertTrue(e.getMessage().contains("0.q_proj"), e.getMessage());
    }
  }
}
