package io.marginal.inference.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.inference.TestModels;
import io.marginal.model.LanguageModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class InstanceEmbeddingsTest {

  @Test
  void concurrentRequestsShareForwardPassesAndEachGetsItsOwnEmbedding() throws Exception {
    try (LanguageModel model = LanguageModel.load(TestModels.tinyCheckpoint())) {
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < 48; i++) {
        texts.add(i % 7 == 0 ? "" : "request number " + i + " asks for " + "a film ".repeat(i % 5));
      }
      ExecutorService pool = Executors.newFixedThreadPool(12);
      try (InstanceEmbeddings embeddings = new InstanceEmbeddings(model, 8)) {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<float[]>> futures = new ArrayList<>();
        for (String text : texts) {
          futures.add(pool.submit(() -> {
            start.await();
            return embeddings.embed(text);
          }));
        }
        start.countDown();
        for (int i = 0; i < texts.size(); i++) {
          assertArrayEquals(model.embed(texts.get(i)), futures.get(i).get(), 1e-5f, texts.get(i));
        }
        assertTrue(embeddings.meanBatchSize() > 1, "12 concurrent callers share passes: " + embeddings.meanBatchSize());
        assertTrue(embeddings.meanBatchSize() <= 8);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aClosedEmbedderRefusesWithAReason() throws Exception {
    try (LanguageModel model = LanguageModel.load(TestModels.tinyCheckpoint())) {
      InstanceEmbeddings embeddings = new InstanceEmbeddings(model, 4);
      assertEquals(model.config().hiddenSize(), embeddings.embed("hello").length);
      embeddings.close();
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> embeddings.embed("hello"));
      assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
  }
}
