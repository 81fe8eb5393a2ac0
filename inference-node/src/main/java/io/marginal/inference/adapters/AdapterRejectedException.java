package io.marginal.inference.adapters;

/** An adapter version this node will not serve; the message says why and what keeps serving. */
public final class AdapterRejectedException extends RuntimeException {
  public AdapterRejectedException(String message) {
    super(message);
  }

  public AdapterRejectedException(String message, Throwable cause) {
    super(message, cause);
  }
}
