package io.marginal.model.scoring;

/**
 * A prompt and a continuation to score, as token ids. The log-probability of the continuation
 * is {@code sum_t log P(continuation[t] | prompt, continuation[<t])}.
 */
public record Continuation(int[] prompt, int[] continuation) {
  public Continuation {
    if (prompt.length == 0) {
      throw new IllegalArgumentException("prompt must have at least one token");
    }
  }

  public int length() {
    return prompt.length + continuation.length;
  }
}
