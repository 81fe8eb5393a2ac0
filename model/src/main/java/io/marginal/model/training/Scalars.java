package io.marginal.model.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a scalar that is safe under autograd.
 *
 * <p>Do not call DJL's {@code NDArray.mul(Number)}, {@code div(Number)}, {@code maximum(Number)} (or
 * {@code Activation.swish}, which uses them) on anything a backward pass goes through. DJL 0.34's
 * PyTorch engine implements them as {@code try (NDArray n = manager.create(number)) { return mul(n); }}:
 * the scalar is a {@code from_blob} tensor over a Java direct buffer, closed at once. Autograd keeps the
 * scalar for the backward pass ({@code d(x·s)/dx = s}), but once the handle is closed nothing on the Java
 * side holds the buffer, and the next garbage collection frees it: the backward pass then reads freed
 * memory — NaN or huge gradients, now and then, more often under load, and a SIGSEGV in
 * {@code torchBackward} when the page is gone. The scalars made here are allocated by PyTorch itself
 * ({@code torch::full}), so the graph owns them.
 */
public final class Scalars {

  private Scalars() {
  }

  /** A 0-d tensor holding {@code value}, owned by PyTorch, in {@code like}'s manager, type and device. */
  public static NDArray like(NDArray like, float value) {
    return like.getManager().full(new Shape(), value, like.getDataType());
  }

  public static NDArray mul(NDArray x, float value) {
    return x.mul(like(x, value));
  }

  public static NDArray div(NDArray x, float value) {
    return x.div(like(x, value));
  }

  public static NDArray maximum(NDArray x, float value) {
    return x.maximum(like(x, value));
  }

  /** SiLU (swish with β = 1): {@code x · sigmoid(x)}. */
  public static NDArray silu(NDArray x) {
    return x.mul(x.getNDArrayInternal().sigmoid());
  }
}
