package io.marginal.inference.generation;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The only place model work runs: a fixed number of threads and a bounded queue. When the queue is
 * full a submission is refused at once ({@link QueueFullException}, which the API turns into 429
 * with Retry-After) instead of piling up unbounded work behind a slow model.
 */
public final class ModelWorkerPool implements AutoCloseable {

  /** Thrown by {@link #submit} when every worker is busy and the queue is full. */
  public static final class QueueFullException extends RuntimeException {
    private final int retryAfterSeconds;

    QueueFullException(String message, int retryAfterSeconds) {
      super(message);
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public int retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  private final ThreadPoolExecutor executor;
  private final int threads;
  private final int capacity;
  private final AtomicInteger running = new AtomicInteger();
  /** Recent mean service time (ms), for the Retry-After hint. */
  private volatile double meanServiceMs = 1000;

  public ModelWorkerPool(int threads, int queueCapacity) {
    this.threads = threads;
    this.capacity = queueCapacity;
    AtomicInteger n = new AtomicInteger();
    // A SynchronousQueue stands in for capacity 0: hand-off only, refuse when all workers are busy.
    this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        queueCapacity == 0 ? new java.util.concurrent.SynchronousQueue<>() : new ArrayBlockingQueue<>(queueCapacity),
        r -> {
          Thread t = new Thread(r, "model-worker-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        },
        new ThreadPoolExecutor.AbortPolicy());
  }

  /** Runs {@code work} on a model worker; fails fast with {@link QueueFullException} when saturated. */
  public <T> CompletableFuture<T> submit(Supplier<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        running.incrementAndGet();
        long start = System.nanoTime();
        try {
          result.complete(work.get());
        } catch (Throwable t) {
          result.completeExceptionally(t);
        } finally {
          running.decrementAndGet();
          double ms = (System.nanoTime() - start) / 1e6;
          meanServiceMs = 0.9 * meanServiceMs + 0.1 * ms;
        }
      });
    } catch (RejectedExecutionException e) {
      int retry = retryAfterSeconds();
      throw new QueueFullException("the model is busy: all " + threads + " workers are generating and " + capacity
          + " requests are already queued; retry after " + retry + " s", retry);
    }
    return result;
  }

  /** Seconds until a slot is likely free: one queue's worth of mean service time, at least 1. */
  public int retryAfterSeconds() {
    double ms = meanServiceMs * Math.max(1, (double) (capacity + threads) / threads);
    return (int) Math.max(1, Math.min(60, Math.ceil(ms / 1000)));
  }

  public int queueDepth() {
    return executor.getQueue().size();
  }

  public int running() {
    return running.get();
  }

  public int threads() {
    return threads;
  }

  public int capacity() {
    return capacity;
  }

  /** Stops taking work and waits up to {@code timeout} for what was accepted. */
  public boolean shutdown(Duration timeout) {
    executor.shutdown();
    try {
      return executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
