package io.marginal.inference;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A real HTTP client (Vert.x WebClient) with blocking helpers for tests. */
final class Http implements AutoCloseable {

  final Vertx vertx = Vertx.vertx();
  final WebClient client;
  final int port;

  Http(int port) {
    this.port = port;
    this.client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("localhost").setDefaultPort(port)
        .setMaxPoolSize(32).setIdleTimeout(60));
  }

  /** {@code GET /metrics} with the admin key, parsed strictly as the Prometheus text format. */
  io.marginal.metrics.PrometheusText metrics() {
    return io.marginal.metrics.PrometheusText.scrape(java.net.URI.create("http://localhost:" + port + "/metrics"), TestCluster.ADMIN_KEY);
  }

  /** Scrapes until {@code done} holds (a counter moves once the response has ended), at most 10 s; the last scrape. */
  io.marginal.metrics.PrometheusText metricsWhen(java.util.function.Predicate<io.marginal.metrics.PrometheusText> done)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    io.marginal.metrics.PrometheusText text = metrics();
    while (!done.test(text) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      text = metrics();
    }
    return text;
  }

  CompletableFuture<HttpResponse<Buffer>> postAsync(String path, String key, String body) {
    var req = client.post(path).putHeader("content-type", "application/json");
    if (key != null) {
      req.putHeader("Authorization", "Bearer " + key);
    }
    return req.sendBuffer(Buffer.buffer(body)).toCompletionStage().toCompletableFuture();
  }

  HttpResponse<Buffer> post(String path, String key, String body) throws Exception {
    return postAsync(path, key, body).get(120, TimeUnit.SECONDS);
  }

  HttpResponse<Buffer> get(String path, String key) throws Exception {
    var req = client.get(path);
    if (key != null) {
      req.putHeader("Authorization", "Bearer " + key);
    }
    return req.send().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static String chat(String model, String userMessage, int maxTokens, boolean stream) {
    return new JsonObject().put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", userMessage)))
        .put("max_tokens", maxTokens).put("temperature", 0).put("stream", stream).encode();
  }

  /** The {@code data:} payloads of an SSE body, in order. */
  static List<String> events(String body) {
    List<String> out = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      if (block.startsWith("data: ")) {
        out.add(block.substring(6));
      }
    }
    return out;
  }

  /** Concatenated content deltas of an SSE chat stream. */
  static String streamedText(String body) {
    StringBuilder sb = new StringBuilder();
    for (String e : events(body)) {
      if (e.equals("[DONE]")) {
        continue;
      }
      JsonObject chunk = new JsonObject(e);
      JsonArray choices = chunk.getJsonArray("choices");
      if (choices != null && !choices.isEmpty()) {
        String c = choices.getJsonObject(0).getJsonObject("delta").getString("content");
        if (c != null) {
          sb.append(c);
        }
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    client.close();
    vertx.close();
  }
}
