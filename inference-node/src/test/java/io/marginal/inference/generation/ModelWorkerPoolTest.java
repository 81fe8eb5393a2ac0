package io.marginal.inference.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ModelWorkerPoolTest {

  @Test
  void refusesBeyondWorkersPlusQueueAndRecoversWhenFree() throws Exception {
    try (ModelWorkerPool pool = new ModelWorkerPool(1, 2)) {
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch running = new CountDownLatch(1);
      CompletableFuture<Integer> first = pool.submit(() -> {
        running.countDown();
        await(release);
        return 1;
      });
      running.await(5, TimeUnit.SECONDS);
      CompletableFuture<Integer> second = pool.submit(() -> 2);
      CompletableFuture<Integer> third = pool.submit(() -> 3);
      assertEquals(2, pool.queueDepth());
      ModelWorkerPool.QueueFullException full = assertThrows(ModelWorkerPool.QueueFullException.class, () -> pool.submit(() -> 4));
      assertTrue(full.retryAfterSeconds() >= 1);
      assertTrue(full.getMessage().contains("all 1 workers are generating and 2 requests are already queued"), full.getMessage());
      release.countDown();
      assertEquals(List.of(1, 2, 3), List.of(first.get(5, TimeUnit.SECONDS), second.get(5, TimeUnit.SECONDS), third.get(5, TimeUnit.SECONDS)));
      assertEquals(5, pool.submit(() -> 5).get(5, TimeUnit.SECONDS));
      assertTrue(pool.shutdown(Duration.ofSeconds(5)));
    }
  }

  @Test
  void chunksConcatenateBackToTheAnswer() {
    String text = "I  recommend\nInception, tonight. ";
    assertEquals(text, String.join("", ChatService.chunks(text)));
    assertEquals(List.of("I  ", "recommend\n", "Inception, ", "tonight. "), ChatService.chunks(text));
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
