package io.marginal.model.adapters;

import io.marginal.model.CheckpointException;

/** An adapter directory cannot be used; the message says which adapter, what is wrong and what was expected. */
public class AdapterFormatException extends CheckpointException {
  public AdapterFormatException(String message) {
    super(message);
  }

  public AdapterFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
