package io.marginal.model.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.probe.GradientProbe;
import io.marginal.model.probe.NeuronScores;
import io.marginal.model.probe.ProbeKey;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.HookPoint;
import io.marginal.model.transformer.ModuleHook;
import io.marginal.model.weights.Projection;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingTest {
  @TempDir Path dir;

  static Map<String, byte[]> snapshot(LanguageModel model) {
    Map<String, byte[]> out = new HashMap<>();
    model.transformer().weights().byName().forEach((name, array) -> {
      ByteBuffer b = array.toByteBuffer();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      out.put(name, bytes);
    });
    return out;
  }

  @Test
  void trainingMovesLoraTowardTargetAndLeavesBaseBitIdentical() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 13);
        LoraAdapter adapter = LoraAdapter.create("t", 1, model.config(), LoraConfig.allProjections(4, 8, 0.0), model.manager(), 2)) {
      Map<String, byte[]> before = snapshot(model);
      List<float[]> loraBefore = new ArrayList<>();
      adapter.parameters().forEach(p -> loraBefore.add(p.toFloatArray()));
      String shaBefore = adapter.sha256();

      List<Continuation> batch = List.of(model.continuation("recommend me a sci-fi film", "reset my pin please"),
          model.continuation("hello there", "the cat sat on the mat"));
      // The tiny random model's fixed output head bounds how far logits can move (~3.5 nats/token
      // floor here), so we check a clear, steady fall rather than convergence.
      double start = sum(model.logProbs(batch, ActiveAdapters.of(adapter)));
      List<Float> losses = new ArrayList<>();
      try (LoraTrainingStep trainer = LoraTrainingStep.adam(model.manager(), List.of(adapter), 1e-2f)) {
        for (int i = 0; i < 15; i++) {
          losses.add(trainer.step(step -> model.sequenceLogProbs(step, batch,
              new ForwardOptions(ActiveAdapters.of(adapter), true, ModuleHook.NONE)).sum().neg()));
        }
      }
      adapter.setTrainable(false);
      double end = sum(model.logProbs(batch, ActiveAdapters.of(adapter)));
      assertTrue(losses.get(losses.size() - 1) < losses.get(0) * 0.92, "loss should fall: " + losses);
      assertTrue(end > start + 1, "log-prob of the target should rise: " + start + " -> " + end);

      Map<String, byte[]> after = snapshot(model);
      assertEquals(before.keySet(), after.keySet());
      for (String name : before.keySet()) {
        assertArrayEquals(before.get(name), after.get(name), "base weight " + name + " changed");
      }
      int changed = 0;
      for (int i = 0; i < loraBefore.size(); i++) {
        changed += java.util.Arrays.equals(loraBefore.get(i), adapter.parameters().get(i).toFloatArray()) ? 0 : 1;
      }
      assertTrue(changed > adapter.parameters().size() / 2, "most LoRA matrices should change, changed " + changed);
      assertNotEquals(shaBefore, adapter.sha256());
      for (NDArray w : model.transformer().weights().byName().values()) {
        assertFalse(w.hasGradient(), "base weights never get gradients");
      }
    }
  }

  @Test
  void maskedTrainingOnlyMovesMaskedRowsOfB() {
    try (LanguageModel model = TinyModels.load(dir, false, 17);
        LoraAdapter adapter = LoraAdapter.create("m", 1, model.config(), LoraConfig.of(4, 8, 0, Projection.DOWN), model.manager(), 2)) {
      int width = Projection.DOWN.outFeatures(model.config());
      boolean[] mask = new boolean[width];
      mask[3] = mask[10] = true;
      for (int l = 0; l < model.config().numHiddenLayers(); l++) {
        adapter.setMask(new LoraTarget(l, Projection.DOWN), mask);
      }
      List<Continuation> batch = List.of(model.continuation("hello there", "one two three"));
      try (LoraTrainingStep trainer = LoraTrainingStep.adam(model.manager(), List.of(adapter), 1e-2f)) {
        for (int i = 0; i < 3; i++) {
          trainer.step(step -> model.sequenceLogProbs(step, batch, new ForwardOptions(ActiveAdapters.of(adapter), true, null)).sum().neg());
        }
      }
      float[] b = adapter.loraB(new LoraTarget(0, Projection.DOWN)).toFloatArray();
      int rank = 4;
      for (int row = 0; row < width; row++) {
        for (int k = 0; k < rank; k++) {
          if (mask[row]) {
            continue;
          }
          assertEquals(0f, b[row * rank + k], 0f, "unmasked row " + row + " of B moved");
        }
      }
      assertTrue(b[3 * rank] != 0f || b[3 * rank + 1] != 0f, "masked row should move");
    }
  }

  @Test
  void gradientProbeScoresNeurons() {
    try (LanguageModel model = TinyModels.load(dir, false, 19)) {
      List<Continuation> batch = List.of(model.continuation("recommend me a sci-fi film", "You should watch Inception ."));
      Map<ProbeKey, NeuronScores> scores;
      try (var step = model.manager().newSubManager(); var collector = TrainingLock.gradientCollector()) {
        GradientProbe probe = new GradientProbe(Set.of(HookPoint.MLP_ACTIVATION, HookPoint.O));
        NDArray loss = model.sequenceLogProbs(step, batch, new ForwardOptions(ActiveAdapters.NONE, false, probe)).sum().neg();
        collector.backward(loss);
        scores = probe.collect();
      }
      NeuronScores s = scores.get(new ProbeKey(1, HookPoint.MLP_ACTIVATION));
      assertEquals(model.config().intermediateSize(), s.saliency().length);
      assertTrue(s.tokens() > 0);
      double total = 0;
      for (float f : s.fisher()) {
        total += f;
      }
      assertTrue(total > 0, "fisher scores should be positive");
      assertEquals(4, scores.size());
    }
  }

  static double sum(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s;
  }
}
