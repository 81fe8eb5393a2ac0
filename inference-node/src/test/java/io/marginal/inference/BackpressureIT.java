package io.marginal.inference;

import static org.awaitility.Awaitility.await;
import static io.marginal.inference.TestCluster.ALICE_KEY;
import static io.marginal.inference.TestCluster.BOB_KEY;
import static io.marginal.inference.TestCluster.MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The bounded worker pool (429 + Retry-After), request timeouts (504), and graceful shutdown draining a stream. */
class BackpressureIT {

  static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = new TestCluster();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aFullQueueAnswers429WithRetryAfterAndNeverQueuesWithoutBound() throws Exception {
    try (InferenceNode node = cluster.startNode("node-tiny-pool", Map.of("MARGINAL_WORKER_THREADS", "1", "MARGINAL_QUEUE_CAPACITY", "1"));
        Http http = new Http(node.port())) {
      List<CompletableFuture<HttpResponse<Buffer>>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(http.postAsync("/v1/chat/completions", i % 2 == 0 ? ALICE_KEY : BOB_KEY, Http.chat(MODEL, "Question " + i, 128, false)));
      }
      int ok = 0;
      int refused = 0;
      for (CompletableFuture<HttpResponse<Buffer>> c : calls) {
        HttpResponse<Buffer> r = c.get(120, TimeUnit.SECONDS);
        if (r.statusCode() == 429) {
          refused++;
          int retryAfter = Integer.parseInt(r.getHeader("Retry-After"));
          assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
          InferenceApiIT.assertError(r, 429, "rate_limit_error", "queue_full", "1 requests are already queued");
        } else {
          assertEquals(200, r.statusCode(), r.bodyAsString());
          ok++;
        }
      }
      assertTrue(ok >= 2, "the running and the queued request are served: " + ok);
      assertTrue(refused >= 1, "the rest are refused at once");
      assertEquals(8, ok + refused);
      io.marginal.metrics.PrometheusText metrics = http.metrics();
      assertEquals(refused, metrics.value("marginal_requests_rejected_queue_full_total"));
      assertEquals(1.0, metrics.value("marginal_worker_queue_capacity"));
    }
  }

  @Test
  void generationPastTheRequestTimeoutAnswers504() throws Exception {
    try (InferenceNode node = cluster.startNode("node-impatient", Map.of("MARGINAL_REQUEST_TIMEOUT", "PT0.05S"));
        Http http = new Http(node.port())) {
      InferenceApiIT.assertError(http.post("/v1/chat/completions", ALICE_KEY, Http.chat(MODEL, "Tell me a long story.", 256, false)),
          504, "timeout_error", "timeout", "MARGINAL_REQUEST_TIMEOUT");
    }
  }

  @Test
  void shutdownDrainsAStreamInFlightAndRefusesNewRequests() throws Exception {
    InferenceNode node = cluster.startNode("node-draining", Map.of());
    try (Http http = new Http(node.port())) {
      CompletableFuture<HttpResponse<Buffer>> stream = http.postAsync("/v1/chat/completions", ALICE_KEY,
          Http.chat(MODEL, "Tell me a long story.", 256, true));
      await("the stream occupies a worker").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
          .until(() -> http.metrics().value("marginal_workers_busy") == 1.0);
      CompletableFuture<Void> closing = CompletableFuture.runAsync(node::close);
      Thread.sleep(50);
      if (!stream.isDone()) {
        HttpResponse<Buffer> refused = http.post("/v1/chat/completions", BOB_KEY, Http.chat(MODEL, "hi", 4, false));
        InferenceApiIT.assertError(refused, 503, "server_error", "shutting_down", "shutting down");
        assertEquals(503, http.get("/ready", null).statusCode());
      }
      HttpResponse<Buffer> r = stream.get(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode());
      assertTrue(r.bodyAsString().endsWith("data: [DONE]\n\n"), "the stream in flight completes during shutdown");
      assertTrue(Http.streamedText(r.bodyAsString()).length() > 0);
      closing.get(60, TimeUnit.SECONDS);
    } finally {
      node.close();
    }
  }
}
