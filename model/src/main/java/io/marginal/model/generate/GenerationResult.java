package io.marginal.model.generate;

/**
 * @param text the generated text (stop token/string excluded)
 * @param tokens the generated token ids (stop token excluded)
 * @param finishReason why it ended
 * @param promptTokens length of the prompt in tokens
 * @param prefillNanos time to process the prompt and produce the first logits
 * @param decodeNanos time spent producing the remaining tokens
 */
public record GenerationResult(String text, int[] tokens, FinishReason finishReason, int promptTokens,
    long prefillNanos, long decodeNanos) {

  /** Generated tokens per second over the whole request (prefill included). */
  public double tokensPerSecond() {
    long nanos = prefillNanos + decodeNanos;
    return nanos == 0 ? 0 : tokens.length * 1e9 / nanos;
  }
}
