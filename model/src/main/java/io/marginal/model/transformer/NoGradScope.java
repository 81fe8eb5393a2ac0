package io.marginal.model.transformer;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Turns autograd recording off on the current thread until closed, then restores it.
 *
 * <p>Why: PyTorch's grad mode is per thread and on by default, and DJL only switches it off on
 * the thread that started the engine. On a worker thread, a forward pass that touches any array
 * requiring a gradient (an adapter being trained) would build a graph, and an in-place parameter
 * update would fail ("a leaf Variable that requires grad is being used in an in-place
 * operation"). Inference and optimizer updates therefore run inside this scope.
 */
public final class NoGradScope implements AutoCloseable {
  private final boolean previous;

  private NoGradScope() {
    previous = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
  }

  public static NoGradScope open() {
    return new NoGradScope();
  }

  @Override
  public void close() {
    JniUtils.setGradMode(previous);
  }
}
