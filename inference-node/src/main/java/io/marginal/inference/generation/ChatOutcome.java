package io.marginal.inference.generation;

import io.marginal.schemas.Interaction;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a chat request produced.
 *
 * @param finishReason   OpenAI finish reason ({@code stop} or {@code length})
 * @param ended          how it ended: completed, timed out, or abandoned by the client
 * @param recorded       completes when Kafka has the interaction record (absent unless completed)
 */
public record ChatOutcome(String text, String finishReason, Ended ended, int promptTokens, int completionTokens,
    List<String> adapterLabels, boolean personalized, int candidates, double generationSeconds,
    Interaction interaction, CompletableFuture<?> recorded) {

  public enum Ended { COMPLETED, TIMED_OUT, CLIENT_GONE }
}
