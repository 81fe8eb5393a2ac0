package io.marginal.schemas.validation;

import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import java.util.Locale;
import java.util.Optional;

/**
 * What makes a deletion request usable, checked the same way by the HTTP API, the client and the streams app:
 * ids present; INTERACTION and FEEDBACK name the ids to forget (none blank); CONCEPT and PREFERENCE name the
 * text to forget.
 */
public final class DeletionRules {

  private DeletionRules() {
  }

  public static Optional<Violation> violation(DeletionRequest request) {
    DeletionScope scope = request.getScope();
    String subject = scope == null ? "deletion" : "scope " + scope.name().toLowerCase(Locale.ROOT);
    if (FeedbackRules.blank(request.getDeletionId())) {
      return Optional.of(new Violation(subject, "deletionId", "the id of this deletion", null));
    }
    if (FeedbackRules.blank(request.getUserId())) {
      return Optional.of(new Violation(subject, "userId", "the user whose data to forget", null));
    }
    if (scope == null) {
      return Optional.of(new Violation(subject, "scope", "one of " + java.util.Arrays.toString(DeletionScope.values()), null));
    }
    switch (scope) {
      case INTERACTION, FEEDBACK -> {
        if (request.getTargetIds() == null || request.getTargetIds().isEmpty()
            || request.getTargetIds().stream().anyMatch(FeedbackRules::blank)) {
          return Optional.of(new Violation(subject, "targetIds", "the " + (scope == DeletionScope.INTERACTION ? "interaction" : "feedback")
              + " ids to forget (none blank)", request.getTargetIds() == null || request.getTargetIds().isEmpty() ? null : request.getTargetIds()));
        }
      }
      case CONCEPT, PREFERENCE -> {
        if (FeedbackRules.blank(request.getConcept())) {
          return Optional.of(new Violation(subject, "concept", scope == DeletionScope.CONCEPT ? "the concept to forget"
              : "the preferred response to forget", null));
        }
      }
      default -> {
        // ALL_USER_DATA names everything of the user: nothing more to check
      }
    }
    return Optional.empty();
  }

  /** The request itself when it is usable; else IllegalArgumentException with the rule it breaks (for clients). */
  public static DeletionRequest require(DeletionRequest request) {
    violation(request).ifPresent(v -> {
      throw new IllegalArgumentException(v.message());
    });
    return request;
  }
}
