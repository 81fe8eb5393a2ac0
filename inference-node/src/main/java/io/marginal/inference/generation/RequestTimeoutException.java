package io.marginal.inference.generation;

/** The request's deadline passed before a worker could start it. */
public final class RequestTimeoutException extends RuntimeException {
  public RequestTimeoutException(String message) {
    super(message);
  }
}
