package io.marginal.inference.generation;

/** The prompt does not fit the node's token limit; the client must shorten it. */
public final class PromptTooLongException extends RuntimeException {
  public PromptTooLongException(String message) {
    super(message);
  }
}
