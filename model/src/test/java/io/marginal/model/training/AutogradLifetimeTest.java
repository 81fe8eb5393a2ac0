package io.marginal.model.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.transformer.ForwardOptions;
import io.marginal.model.transformer.ModuleHook;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Everything the backward pass reads must be owned by PyTorch, not by a Java buffer the garbage collector
 * may free between forward and backward (see {@link Scalars}). The test provokes exactly that: forward,
 * then collections and a spray of freshly allocated NaN-filled direct buffers (which reuse freed native
 * memory), then backward. The gradients must equal those of an undisturbed run, bit for bit.
 */
class AutogradLifetimeTest {
  @TempDir Path dir;

  @Test
  void gradientsSurviveGarbageCollectionBetweenForwardAndBackward() throws Exception {
    try (LanguageModel model = TinyModels.load(dir, true, 21);
        LoraAdapter adapter = LoraAdapter.create("gc", 1, model.config(), LoraConfig.allProjections(4, 8, 0.0), model.manager(), 3)) {
      TinyModels.randomizeB(adapter);
      List<Continuation> batch = List.of(model.continuation("recommend me a sci-fi film", "reset my pin please"),
          model.continuation("hello there", "the cat sat on the mat"));
      List<float[]> quiet = gradients(model, adapter, batch, false);
      for (int round = 0; round < 3; round++) {
        List<float[]> disturbed = gradients(model, adapter, batch, true);
        for (int i = 0; i < quiet.size(); i++) {
          for (float f : disturbed.get(i)) {
            assertTrue(Float.isFinite(f), "non-finite gradient in parameter " + i + " after a collection (round " + round + ")");
          }
          assertArrayEquals(quiet.get(i), disturbed.get(i), "gradient of parameter " + i + " changed by a collection");
        }
      }
    }
  }

  private static List<float[]> gradients(LanguageModel model, LoraAdapter adapter, List<Continuation> batch, boolean disturb)
      throws InterruptedException {
    adapter.setTrainable(true);
    try {
      try (NDManager step = model.manager().newSubManager(); GradientCollector gc = TrainingLock.gradientCollector()) {
        NDArray loss = Scalars.div(model.sequenceLogProbs(step, batch,
            new ForwardOptions(ActiveAdapters.of(adapter), true, ModuleHook.NONE)).sum().neg(), 7f);
        if (disturb) {
          disturb();
        }
        gc.backward(loss);
      }
      List<float[]> out = new ArrayList<>();
      for (NDArray p : adapter.parameters()) {
        try (NDArray g = p.getGradient()) {
          out.add(g.toFloatArray());
          Gradients.clear(g);
        }
      }
      return out;
    } finally {
      adapter.setTrainable(false);
    }
  }

  /** Collects (so that closed scalars' direct buffers are freed), then refills freed native memory with NaN. */
  private static void disturb() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20); // the Cleaner thread frees direct buffers after the collection
    }
    List<ByteBuffer> spray = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      ByteBuffer b = ByteBuffer.allocateDirect(4 + 4 * (i % 4)).order(ByteOrder.nativeOrder());
      while (b.remaining() >= 4) {
        b.putFloat(Float.NaN);
      }
      spray.add(b);
    }
    spray.clear();
  }
}
