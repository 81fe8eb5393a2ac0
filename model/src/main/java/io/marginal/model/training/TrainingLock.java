package io.marginal.model.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The process-wide gate to autograd. DJL's PyTorch engine allows one open GradientCollector per
 * process (a second throws); this lock makes a second trainer wait instead of fail.
 */
public final class TrainingLock {
  private static final ReentrantLock LOCK = new ReentrantLock(true);

  private TrainingLock() {}

  /** Waits for the lock and opens a collector; closing it releases both. */
  public static GradientCollector gradientCollector() {
    LOCK.lock();
    try {
      GradientCollector inner = Engine.getInstance().newGradientCollector();
      return new GradientCollector() {
        private boolean closed;

        @Override
        public void backward(NDArray target) {
          inner.backward(target);
        }

        @Override
        public void zeroGradients() {
          throw new UnsupportedOperationException("zero the optimizer's parameters instead (AdamOptimizer.zeroGradients):"
              + " DJL's zeroGradients walks every array in the process");
        }

        @Override
        public void close() {
          if (!closed) {
            closed = true;
            try {
              inner.close();
            } finally {
              LOCK.unlock();
            }
          }
        }
      };
    } catch (RuntimeException e) {
      LOCK.unlock();
      throw e;
    }
  }
}
