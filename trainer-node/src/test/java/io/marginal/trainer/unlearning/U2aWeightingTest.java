package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class U2aWeightingTest {

  @Test
  void examplesAlignedWithTheRetainGradientWeighLessAndForgottenOnesNothing() {
    U2aWeighting u2a = new U2aWeighting(4.0, -4.0);
    double[] w = u2a.weights(new double[] {0.5, 0.0, -0.5, 0.0}, new double[] {1, 1, 1, 1}, new double[] {-0.1, -0.1, -0.1, -6});
    assertEquals(0.0, w[3], "already below the floor: nothing left to unlearn");
    assertTrue(w[0] < w[1] && w[1] < w[2], "ascent on an example that shares the retain gradient costs utility");
    assertEquals(3.0, w[0] + w[1] + w[2], 1e-9, "relevant weights average 1");
    // hand computed: 2σ(-4c) = 2/(1+e^{4c}) → 0.2384, 1, 1.7616; scaled by 3/3 = 1
    assertEquals(2 / (1 + Math.exp(2.0)), w[0], 1e-9);
  }

  @Test
  void requestWeightsMultiplyAndKappaZeroIsPlainWeighting() {
    double[] w = new U2aWeighting(0, -4).weights(new double[] {0.9, -0.9}, new double[] {1, 3}, new double[] {0, 0});
    assertEquals(0.5, w[0], 1e-9);
    assertEquals(1.5, w[1], 1e-9);
  }
}
