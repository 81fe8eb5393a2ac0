package io.marginal.model;

/**
 * A model checkpoint or adapter on disk cannot be used: a file is missing, a format is not
 * supported, or a tensor does not have the shape the configuration implies. The message names
 * the file or tensor and says what was expected.
 */
public class CheckpointException extends RuntimeException {
  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
