package io.marginal.streams.deletion;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.validation.DeletionRules;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What a deletion request names, as predicates over bank entries, stored interactions and pending
 * feedback. Concept matching is case-insensitive substring matching on the prompt and both responses;
 * a preference matches entries whose preferred response equals it (case-insensitive).
 */
public final class DeletionMatcher {

  private final DeletionRequest request;
  private final Set<String> targets;
  private final String needle;

  public DeletionMatcher(DeletionRequest request) {
    this.request = request;
    this.targets = Set.copyOf(request.getTargetIds());
    String concept = request.getConcept();
    this.needle = concept == null ? null : concept.trim().toLowerCase(Locale.ROOT);
  }

  /** Null when the request is well-formed ({@link DeletionRules}, as the HTTP API and the client check it), else what is wrong. */
  public String problem() {
    return DeletionRules.violation(request)
        .map(v -> "deletion " + request.getDeletionId() + ": " + v.message() + " Nothing was deleted; resend it complete")
        .orElse(null);
  }

  public Predicate<BankEntry> entries() {
    return switch (request.getScope()) {
      case ALL_USER_DATA -> e -> true;
      case INTERACTION -> e -> targets.contains(e.getInteractionId());
      case FEEDBACK -> e -> e.getFeedbackIds().stream().anyMatch(targets::contains);
      case CONCEPT -> e -> mentions(e.getPrompt()) || mentions(e.getModelResponse()) || mentions(e.getPreferredResponse());
      case PREFERENCE -> e -> e.getPreferredResponse().trim().equalsIgnoreCase(needle);
    };
  }

  public Predicate<Interaction> interactions() {
    return switch (request.getScope()) {
      case ALL_USER_DATA -> i -> true;
      case INTERACTION -> i -> targets.contains(i.getInteractionId());
      case FEEDBACK -> i -> false;
      case CONCEPT -> i -> mentions(i.getPrompt()) || mentions(i.getResponse())
          || i.getCandidates().stream().anyMatch(c -> mentions(c.getResponse()));
      case PREFERENCE -> i -> i.getResponse().trim().equalsIgnoreCase(needle);
    };
  }

  public Predicate<Feedback> pendingFeedback() {
    return switch (request.getScope()) {
      case ALL_USER_DATA -> f -> true;
      case INTERACTION -> f -> targets.contains(f.getInteractionId());
      case FEEDBACK -> f -> targets.contains(f.getFeedbackId());
      case CONCEPT -> f -> mentions(f.getPreferredResponse()) || mentions(f.getComment());
      case PREFERENCE -> f -> f.getPreferredResponse() != null && f.getPreferredResponse().trim().equalsIgnoreCase(needle);
    };
  }

  /** Case-insensitive: does this text mention the concept? */
  public boolean mentions(String text) {
    return needle != null && text != null && text.toLowerCase(Locale.ROOT).contains(needle);
  }
}
