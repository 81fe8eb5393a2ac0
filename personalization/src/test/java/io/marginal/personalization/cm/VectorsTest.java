package io.marginal.personalization.cm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class VectorsTest {

  @Test
  void cosineOfArrays() {
    assertEquals(1.0, Vectors.cosine(new float[] {1, 2}, new float[] {2, 4}), 1e-9);
    assertEquals(-1.0, Vectors.cosine(new float[] {1, 2}, new float[] {-1, -2}), 1e-9);
    assertEquals(0.0, Vectors.cosine(new float[] {1, 0}, new float[] {0, 3}), 1e-9);
    assertEquals(0.0, Vectors.cosine(new float[] {0, 0}, new float[] {0, 3}), 1e-9, "a zero vector is orthogonal to everything");
    assertTrue(Double.isNaN(Vectors.cosine(new float[] {1, 2}, new float[] {1, 2, 3})), "another space is NaN");
  }

  @Test
  void cosineAgainstAStoredEmbeddingAgreesWithTheArrayForm() {
    float[] x = {0.3f, -1.2f, 2.0f};
    assertEquals(Vectors.cosine(x, new float[] {1f, 0.5f, -0.25f}), Vectors.cosine(x, List.of(1f, 0.5f, -0.25f)), 1e-6);
    assertTrue(Double.isNaN(Vectors.cosine(x, List.of(1f))));
  }
}
