package io.marginal.model.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.marginal.model.demo.DemoModel;
import org.junit.jupiter.api.Test;

class GradientsTest {

  @Test
  void clearZeroesNonFiniteGradientsWhichSubtractionCannot() {
    DemoModel.defaultEngineSettings();
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray p = m.create(new float[] {-1f, 0f, 2f});
      p.setRequiresGradient(true);
      try (GradientCollector gc = TrainingLock.gradientCollector()) {
        // d/dp sqrt(p) = 1/(2 sqrt p): NaN at -1, +inf at 0, finite at 2
        gc.backward(p.sqrt().sum());
      }
      NDArray g = p.getGradient();
      float[] before = g.toFloatArray();
      assertTrue(Float.isNaN(before[0]) && Float.isInfinite(before[1]), java.util.Arrays.toString(before));
      try (NDArray copy = g.duplicate()) {
        copy.subi(copy);
        assertTrue(Float.isNaN(copy.toFloatArray()[0]), "g - g keeps NaN; that is why clear() exists");
      }
      assertEquals(0.125, Gradients.zeroNonFinite(g), 1e-6, "(1/(2·sqrt 2))² is all that is left");
      assertArrayEquals(new float[] {0f, 0f, (float) (1 / (2 * Math.sqrt(2)))}, p.getGradient().toFloatArray(), 1e-6f);
      System.gc(); // the gradient's storage must still be torch's own, not a collected Java buffer
      assertArrayEquals(new float[] {0f, 0f, (float) (1 / (2 * Math.sqrt(2)))}, p.getGradient().toFloatArray(), 1e-6f);
      Gradients.clear(g);
      assertArrayEquals(new float[] {0f, 0f, 0f}, p.getGradient().toFloatArray());
    }
  }
}
