package io.marginal.inference.generation;

import io.marginal.model.LanguageModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instance embeddings of concurrent requests, computed together: one thread takes whatever requests
 * are waiting (up to {@code maxBatch}) and embeds them in one forward pass ({@link LanguageModel#embedBatch}).
 * No request waits for a batch to fill: a batch is what queued up while the previous one ran, as in
 * continuous batching. Each embedding equals {@link LanguageModel#embed} of its text alone.
 */
final class InstanceEmbeddings implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InstanceEmbeddings.class);

  private record Job(String text, CompletableFuture<float[]> result) {}

  private static final Job STOP = new Job(null, null);

  private final LanguageModel model;
  private final int maxBatch;
  private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong embedded = new AtomicLong();
  private volatile boolean closed;

  InstanceEmbeddings(LanguageModel model, int maxBatch) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
    }
    this.model = model;
    this.maxBatch = maxBatch;
    this.thread = new Thread(this::run, "instance-embeddings");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** The embedding of {@code text}; blocks until its batch ran (call it on a model worker). */
  float[] embed(String text) {
    return TextGeneration.join(embedAsync(text));
  }

  /** The embedding of {@code text}, completed by the embedding thread when its batch has run. */
  CompletableFuture<float[]> embedAsync(String text) {
    if (closed) {
      throw new IllegalStateException("the instance embedder is closed");
    }
    Job job = new Job(text, new CompletableFuture<>());
    queue.add(job);
    return job.result();
  }


  /** Mean texts per forward pass so far. */
  double meanBatchSize() {
    long b = batches.get();
    return b == 0 ? 0 : (double) embedded.get() / b;
  }

  private void run() {
    List<Job> batch = new ArrayList<>(maxBatch);
    while (true) {
      batch.clear();
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      queue.drainTo(batch, maxBatch - 1);
      boolean stop = batch.remove(STOP);
      if (!batch.isEmpty()) {
        embed(batch);
      }
      if (stop) {
        failRemaining();
        return;
      }
    }
  }

  private void embed(List<Job> batch) {
    try {
      List<float[]> vectors = model.embedBatch(batch.stream().map(Job::text).toList());
      batches.incrementAndGet();
      embedded.addAndGet(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).result().complete(vectors.get(i));
      }
    } catch (RuntimeException | Error e) {
      LOG.error("embedding a batch of {} failed: {}", batch.size(), e.toString());
      batch.forEach(j -> j.result().completeExceptionally(e));
    }
  }

  private void failRemaining() {
    List<Job> rest = new ArrayList<>();
    queue.drainTo(rest);
    rest.stream().filter(j -> j != STOP).forEach(j -> j.result().completeExceptionally(new IllegalStateException("node shutting down")));
  }

  @Override
  public void close() {
    closed = true;
    queue.add(STOP);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
