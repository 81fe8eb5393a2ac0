package io.marginal.model.generate;

/** Why generation ended. */
public enum FinishReason {
  /** A stop token was sampled. */
  STOP_TOKEN,
  /** The text came to contain a stop string. */
  STOP_STRING,
  /** {@code maxTokens} were produced. */
  MAX_TOKENS,
  /** The model's context length was reached. */
  CONTEXT_LENGTH,
  /** The token listener asked to stop. */
  CANCELLED;

  /** The OpenAI-style name: {@code stop} or {@code length}. */
  public String openAiName() {
    return switch (this) {
      case STOP_TOKEN, STOP_STRING, CANCELLED -> "stop";
      case MAX_TOKENS, CONTEXT_LENGTH -> "length";
    };
  }
}
