package io.marginal.model.generate;

import java.util.List;

/**
 * How to generate.
 *
 * @param maxTokens most new tokens to produce
 * @param temperature 0 for greedy decoding, otherwise the softmax temperature
 * @param topP nucleus sampling mass in (0, 1]; 1 disables it
 * @param seed random seed; the same seed, prompt and adapters give the same output
 * @param stopStrings generation ends when the text contains one (it is cut off)
 * @param stopTokenIds generation ends at one of these tokens (not included in the text); when
 *     {@code null}, the model's end-of-turn tokens are used
 */
public record GenerationRequest(int maxTokens, double temperature, double topP, long seed,
    List<String> stopStrings, List<Integer> stopTokenIds) {

  public GenerationRequest {
    if (maxTokens < 0) {
      throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
    }
    if (temperature < 0) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (topP <= 0 || topP > 1) {
      throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    }
    stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    stopTokenIds = stopTokenIds == null ? null : List.copyOf(stopTokenIds);
  }

  /** Greedy decoding of at most {@code maxTokens} tokens, model's stop tokens. */
  public static GenerationRequest greedy(int maxTokens) {
    return new GenerationRequest(maxTokens, 0, 1, 0, List.of(), null);
  }

  /** Temperature + nucleus sampling with a seed, model's stop tokens. */
  public static GenerationRequest sampling(int maxTokens, double temperature, double topP, long seed) {
    return new GenerationRequest(maxTokens, temperature, topP, seed, List.of(), null);
  }

  public GenerationRequest withStopStrings(List<String> stops) {
    return new GenerationRequest(maxTokens, temperature, topP, seed, stops, stopTokenIds);
  }

  public GenerationRequest withStopTokenIds(List<Integer> ids) {
    return new GenerationRequest(maxTokens, temperature, topP, seed, stopStrings, ids);
  }

  public GenerationRequest withSeed(long newSeed) {
    return new GenerationRequest(maxTokens, temperature, topP, newSeed, stopStrings, stopTokenIds);
  }
}
