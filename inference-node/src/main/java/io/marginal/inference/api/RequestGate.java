package io.marginal.inference.api;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the requests in flight and closes the door for shutdown: once {@link #close} is called new
 * requests are refused (503) while those already admitted — streams included — run to the end.
 */
public final class RequestGate {

  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object idle = new Object();

  public boolean tryEnter() {
    if (closed.get()) {
      return false;
    }
    inFlight.incrementAndGet();
    if (closed.get()) { // closed between the check and the increment: back out
      exit();
      return false;
    }
    return true;
  }

  public void exit() {
    if (inFlight.decrementAndGet() == 0) {
      synchronized (idle) {
        idle.notifyAll();
      }
    }
  }

  public void close() {
    closed.set(true);
  }

  public boolean isClosed() {
    return closed.get();
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** Waits until nothing is in flight or {@code timeout} passes; returns whether it drained. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (idle) {
      while (inFlight.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        idle.wait(Math.max(1, left / 1_000_000));
      }
    }
    return true;
  }
}
