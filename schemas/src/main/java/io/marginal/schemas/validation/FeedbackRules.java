package io.marginal.schemas.validation;

import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import java.util.Locale;
import java.util.Optional;

/**
 * What makes a feedback event usable, checked the same way by the HTTP API, the client and the streams app:
 * ids present; PREFERRED_RESPONSE and CORRECTION carry the text the user wanted; a rating, when given (and it
 * must be for RATING), is an integer from 1 to 5.
 */
public final class FeedbackRules {

  private FeedbackRules() {
  }

  public static Optional<Violation> violation(Feedback feedback) {
    String subject = "feedback" + (feedback.getKind() == null ? "" : " of kind " + feedback.getKind().name().toLowerCase(Locale.ROOT));
    if (blank(feedback.getFeedbackId())) {
      return Optional.of(new Violation(subject, "feedbackId", "the id of this feedback event", null));
    }
    if (blank(feedback.getUserId())) {
      return Optional.of(new Violation(subject, "userId", "the user who gave it", null));
    }
    if (blank(feedback.getInteractionId())) {
      return Optional.of(new Violation(subject, "interactionId", "the id of the answer it is about", null));
    }
    if (feedback.getKind() == null) {
      return Optional.of(new Violation(subject, "kind", "one of " + java.util.Arrays.toString(FeedbackKind.values()), null));
    }
    boolean needsText = feedback.getKind() == FeedbackKind.PREFERRED_RESPONSE || feedback.getKind() == FeedbackKind.CORRECTION;
    if (needsText && blank(feedback.getPreferredResponse())) {
      return Optional.of(new Violation(subject, "preferredResponse", "the answer the user wanted instead", null));
    }
    Integer rating = feedback.getRating();
    if ((feedback.getKind() == FeedbackKind.RATING || rating != null) && (rating == null || rating < 1 || rating > 5)) {
      return Optional.of(new Violation(subject, "rating", "an integer from 1 to 5", rating));
    }
    return Optional.empty();
  }

  /** The feedback itself when it is usable; else IllegalArgumentException with the rule it breaks (for clients). */
  public static Feedback require(Feedback feedback) {
    violation(feedback).ifPresent(v -> {
      throw new IllegalArgumentException(v.message());
    });
    return feedback;
  }

  static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
