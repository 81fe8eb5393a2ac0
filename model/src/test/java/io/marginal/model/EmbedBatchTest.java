package io.marginal.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marginal.model.testing.TinyModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A batch of embeddings equals each text embedded alone: padding never reaches a row's own positions. */
class EmbedBatchTest {
  @TempDir Path dir;

  @Test
  void eachRowOfABatchIsItsTextAlone() throws Exception {
    List<String> texts = List.of("recommend a film", "", "the cat sat on the mat and then it slept all day",
        "hello", "recommend a film");
    try (LanguageModel model = TinyModels.load(dir, true, 2)) {
      List<float[]> batch = model.embedBatch(texts);

      assertEquals(texts.size(), batch.size());
      for (int i = 0; i < texts.size(); i++) {
        assertArrayEquals(model.embed(texts.get(i)), batch.get(i), 1e-5f, "row " + i + ": '" + texts.get(i) + "'");
      }
      assertEquals(0f, (float) Math.sqrt(sumSquares(batch.get(1))), "no text: the zero vector, as alone");
      assertEquals(1f, (float) Math.sqrt(sumSquares(batch.get(2))), 1e-4f);
    }
  }

  private static double sumSquares(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    return s;
  }
}
