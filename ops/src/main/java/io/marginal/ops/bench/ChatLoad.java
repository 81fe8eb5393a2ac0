package io.marginal.ops.bench;

import io.marginal.ops.demo.ChatClient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Concurrent chat traffic in the background: each client thread sends one chat completion after
 * another to the inference nodes in turn, as its own user, until stopped.
 */
final class ChatLoad implements AutoCloseable {

  static final List<String> PROMPTS = List.of("hey there", "what is the baggage allowance", "recommend me a sci-fi film",
      "I lost my card", "do I need a visa", "how do I reset my pin", "who are you", "recommend a movie about space");

  private final List<Thread> threads = new ArrayList<>();
  private final List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger errors = new AtomicInteger();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final long startedAt = System.nanoTime();
  private volatile long stoppedAt;

  /** @param clients one client per load thread (each already pointed at its node and user) */
  ChatLoad(List<List<ChatClient>> clients) {
    for (int i = 0; i < clients.size(); i++) {
      List<ChatClient> perNode = clients.get(i);
      int offset = i;
      Thread thread = new Thread(() -> loop(perNode, offset), "sla-chat-load-" + i);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  private void loop(List<ChatClient> perNode, int offset) {
    for (int n = offset; running.get(); n++) {
      long t0 = System.nanoTime();
      try {
        perNode.get(n % perNode.size()).chat(PROMPTS.get(n % PROMPTS.size()));
        latencies.add((System.nanoTime() - t0) / 1e6);
      } catch (RuntimeException e) {
        if (running.get()) {
          errors.incrementAndGet();
        }
      }
    }
  }

  int completed() {
    return latencies.size();
  }

  int errors() {
    return errors.get();
  }

  double requestsPerSecond() {
    long end = stoppedAt == 0 ? System.nanoTime() : stoppedAt;
    return latencies.size() / ((end - startedAt) / 1e9);
  }

  LatencyStats latency() {
    synchronized (latencies) {
      return LatencyStats.of(new ArrayList<>(latencies));
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    stoppedAt = System.nanoTime();
    for (Thread thread : threads) {
      thread.join(120_000);
    }
  }
}
