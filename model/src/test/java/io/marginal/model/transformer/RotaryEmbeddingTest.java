package io.marginal.model.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.config.ModelConfig;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RotaryEmbeddingTest {
  private static ModelConfig config(double theta, ModelConfig.RopeScaling scaling) {
    return new ModelConfig("LlamaForCausalLM", "llama", 64, 128, 1, 4, 2, 16, 10, 1e-5, theta, scaling, 512, false, false,
        -1, List.of());
  }

  @Test
  void rotationMatchesFormula() {
    double theta = 500000.0;
    ModelConfig c = config(theta, null);
    int d = c.headDim();
    int heads = 2;
    int t = 5;
    int start = 37;
    Random random = new Random(3);
    float[] x = new float[heads * t * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    try (NDManager m = NDManager.newBaseManager()) {
      RotaryEmbedding rope = new RotaryEmbedding(c, m);
      float[] y = rope.apply(m.create(x, new Shape(1, heads, t, d)), start).toFloatArray();
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < t; i++) {
          int pos = start + i;
          int base = (h * t + i) * d;
          for (int j = 0; j < d / 2; j++) {
            double angle = pos / Math.pow(theta, 2.0 * j / d);
            double a = x[base + j];
            double b = x[base + j + d / 2];
            assertEquals(a * Math.cos(angle) - b * Math.sin(angle), y[base + j], 1e-4);
            assertEquals(b * Math.cos(angle) + a * Math.sin(angle), y[base + j + d / 2], 1e-4);
          }
        }
      }
    }
  }

  @Test
  void perRowTablesRotateEachRowAtItsOwnPositionExactlyAsTheElementwiseRotationAndPassTheOtherHeads() {
    ModelConfig c = config(10000.0, null);
    int d = c.headDim();
    int rotated = 3;
    int passed = 2;
    int heads = rotated + passed;
    int[] positions = {0, 7, 200, 511};
    try (NDManager m = NDManager.newBaseManager()) {
      RotaryEmbedding rope = new RotaryEmbedding(c, m);
      NDArray x = m.randomNormal(new Shape(positions.length, heads, d));
      float[] input = x.toFloatArray();
      float[] rows = rope.applyRows(x, rope.rowTables(m, positions, rotated, passed)).toFloatArray();
      for (int b = 0; b < positions.length; b++) {
        NDArray alone = rope.apply(x.get(b + ":" + (b + 1) + ", :" + rotated).expandDims(2), positions[b]);
        float[] expected = alone.toFloatArray();
        for (int i = 0; i < expected.length; i++) {
          assertEquals(expected[i], rows[b * heads * d + i], 0f, "row " + b + " (position " + positions[b] + ") element " + i);
        }
        for (int i = rotated * d; i < heads * d; i++) {
          assertEquals(input[b * heads * d + i], rows[b * heads * d + i], 0f, "row " + b + ": a passed head is unchanged");
        }
      }
      assertThrows(IllegalArgumentException.class, () -> rope.rowTables(m, new int[] {512}, rotated, passed));
    }
  }

  @Test
  void rangeTablesEqualPerRowTablesOfConsecutivePositions() {
    ModelConfig c = config(10000.0, null);
    try (NDManager m = NDManager.newBaseManager()) {
      RotaryEmbedding rope = new RotaryEmbedding(c, m);
      for (int passed : new int[] {0, 2}) {
        NDArray[] range = rope.rangeTables(m, 40, 6, 3, passed);
        NDArray[] rows = rope.rowTables(m, new int[] {40, 41, 42, 43, 44, 45}, 3, passed);
        assertEquals(rows[0].getShape(), range[0].getShape());
        assertArrayEquals(rows[0].toFloatArray(), range[0].toFloatArray(), 0f, "cos, passed " + passed);
        assertArrayEquals(rows[1].toFloatArray(), range[1].toFloatArray(), 0f, "sin, passed " + passed);
      }
      assertThrows(IllegalArgumentException.class, () -> rope.rangeTables(m, 510, 3, 3, 2));
    }
  }

  @Test
  void tablesOfABatchStepEqualPerRowTablesWhateverTheMixOfRunsAndRows() {
    ModelConfig c = config(10000.0, null);
    // decode rows at scattered positions, a 100-token prompt, a row, a 70-token prompt, a short prompt
    java.util.List<Integer> mix = new java.util.ArrayList<>(List.of(5, 9, 300, 17));
    for (int i = 0; i < 100; i++) {
      mix.add(i);
    }
    mix.add(7);
    for (int i = 0; i < 70; i++) {
      mix.add(i);
    }
    mix.addAll(List.of(0, 1, 2));
    int[] positions = mix.stream().mapToInt(Integer::intValue).toArray();
    try (NDManager m = NDManager.newBaseManager()) {
      RotaryEmbedding rope = new RotaryEmbedding(c, m);
      for (int[] p : List.of(positions, java.util.Arrays.copyOfRange(positions, 4, 104), java.util.Arrays.copyOf(positions, 10))) {
        NDArray[] expected = rope.rowTables(m, p, 3, 2);
        NDArray[] actual = rope.tables(m, p, 3, 2);
        assertEquals(expected[0].getShape(), actual[0].getShape());
        assertArrayEquals(expected[0].toFloatArray(), actual[0].toFloatArray(), 0f, "cos of " + p.length + " positions");
        assertArrayEquals(expected[1].toFloatArray(), actual[1].toFloatArray(), 0f, "sin of " + p.length + " positions");
      }
    }
  }

  @Test
  void rotationPreservesNormAndRelativePosition() {
    ModelConfig c = config(10000.0, null);
    try (NDManager m = NDManager.newBaseManager()) {
      RotaryEmbedding rope = new RotaryEmbedding(c, m);
      NDArray q = m.randomNormal(new Shape(1, 1, 1, 16));
      NDArray k = m.randomNormal(new Shape(1, 1, 1, 16));
      // <rope(q, p), rope(k, s)> depends only on p - s.
      float d1 = rope.apply(q, 10).mul(rope.apply(k, 4)).sum().getFloat();
      float d2 = rope.apply(q, 106).mul(rope.apply(k, 100)).sum().getFloat();
      assertEquals(d1, d2, 1e-4);
      assertEquals(q.norm().getFloat(), rope.apply(q, 77).norm().getFloat(), 1e-4);
    }
  }

  @Test
  void llama3ScalingKeepsHighFrequenciesAndDividesLowOnes() {
    ModelConfig plain = config(500000.0, null);
    ModelConfig scaled = config(500000.0, new ModelConfig.RopeScaling(8.0, 1.0, 4.0, 64));
    double[] a = RotaryEmbedding.inverseFrequencies(plain);
    double[] b = RotaryEmbedding.inverseFrequencies(scaled);
    assertEquals(a[0], b[0], 1e-15); // wavelength 2π < 64/4: unchanged
    int last = a.length - 1;         // longest wavelength > 64: divided by the factor
    assertEquals(a[last] / 8.0, b[last], 1e-15);
  }
}
