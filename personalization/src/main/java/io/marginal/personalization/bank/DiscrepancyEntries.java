package io.marginal.personalization.bank;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.validation.FeedbackRules;
import java.util.List;
import java.util.Optional;

/**
 * Turns one (interaction, feedback) pair into the discrepancy entry it contributes to the bank:
 * an observed transition from the model's response {@code r} to the user's preferred response {@code y}
 * at instance {@code x}, with a weight.
 *
 * <ul>
 *   <li>PREFERRED_RESPONSE, CORRECTION: (x, r, y = preferred response), weight 1.</li>
 *   <li>THUMBS_UP: (x, r, r), weight 1 — the served response was right; pulls T(r|r,x) up.</li>
 *   <li>THUMBS_DOWN: (x, r, r), weight -1 — a negative self-transition; the estimator moves that much of
 *       r's mass to the other candidates (in proportion to their base probability), never below zero.</li>
 *   <li>RATING 1..5: 4 and 5 act like THUMBS_UP with weight 0.5 and 1; 1 and 2 like THUMBS_DOWN with
 *       weight -1 and -0.5; 3 is neutral and contributes no entry.</li>
 * </ul>
 *
 * <p>One entry per feedback event; its id is the feedback id, so a redelivered event replaces its own
 * entry instead of counting twice, and a FEEDBACK deletion removes exactly it.
 */
public final class DiscrepancyEntries {

  private DiscrepancyEntries() {
  }

  /**
   * The entry for this pair, or empty for neutral feedback.
   *
   * @throws InvalidFeedbackException when the feedback cannot be read as a discrepancy (the caller dead-letters it)
   */
  public static Optional<BankEntry> fromFeedback(Interaction interaction, Feedback feedback) {
    FeedbackRules.violation(feedback).ifPresent(v -> {
      throw new InvalidFeedbackException("feedback " + feedback.getFeedbackId() + ": " + v.message());
    });
    String served = interaction.getResponse();
    String preferred;
    double weight;
    switch (feedback.getKind()) {
      case PREFERRED_RESPONSE, CORRECTION -> {
        preferred = feedback.getPreferredResponse();
        weight = 1.0;
      }
      case THUMBS_UP -> {
        preferred = served;
        weight = 1.0;
      }
      case THUMBS_DOWN -> {
        preferred = served;
        weight = -1.0;
      }
      case RATING -> {
        int rating = feedback.getRating(); // 1..5: FeedbackRules
        if (rating == 3) {
          return Optional.empty();
        }
        preferred = served;
        weight = (rating - 3) / 2.0;
      }
      default -> throw new InvalidFeedbackException("feedback " + feedback.getFeedbackId() + " has unknown kind "
          + feedback.getKind());
    }
    return Optional.of(BankEntry.newBuilder()
        .setEntryId(feedback.getFeedbackId())
        .setInteractionId(interaction.getInteractionId())
        .setFeedbackIds(List.of(feedback.getFeedbackId()))
        .setInstanceEmbedding(List.copyOf(interaction.getInstanceEmbedding()))
        .setPrompt(interaction.getPrompt())
        .setModelResponse(served)
        .setPreferredResponse(preferred)
        .setWeight(weight)
        .setTimestamp(feedback.getTimestamp())
        .build());
  }

  /** Feedback that is well-formed Avro but cannot become a bank entry. */
  public static final class InvalidFeedbackException extends RuntimeException {
    public InvalidFeedbackException(String message) {
      super(message);
    }
  }
}
