package io.marginal.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.validation.DeletionRules;
import io.marginal.schemas.validation.FeedbackRules;
import io.marginal.schemas.validation.Violation;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One rule per event type, worded for each edge: the HTTP API's snake_case names, the Avro names elsewhere. */
class EventRulesTest {

  private static Feedback.Builder feedback(FeedbackKind kind) {
    return Feedback.newBuilder().setFeedbackId("f-1").setUserId("alice").setInteractionId("i-1")
        .setTimestamp(Instant.EPOCH).setKind(kind);
  }

  private static DeletionRequest.Builder deletion(DeletionScope scope) {
    return DeletionRequest.newBuilder().setDeletionId("d-1").setUserId("alice").setTimestamp(Instant.EPOCH).setScope(scope);
  }

  @Test
  void feedbackNeedsItsTextOrAValidRating() {
    assertTrue(FeedbackRules.violation(feedback(FeedbackKind.THUMBS_UP).build()).isEmpty());
    assertTrue(FeedbackRules.violation(feedback(FeedbackKind.CORRECTION).setPreferredResponse("Arrival").build()).isEmpty());
    Violation text = FeedbackRules.violation(feedback(FeedbackKind.PREFERRED_RESPONSE).setPreferredResponse(" ").build()).orElseThrow();
    assertEquals("preferredResponse", text.field());
    assertEquals("feedback of kind preferred_response needs 'preferred_response': the answer the user wanted instead.",
        text.message(Violation::snakeCase));
    assertEquals("rating", FeedbackRules.violation(feedback(FeedbackKind.RATING).build()).orElseThrow().field());
    assertEquals("feedback of kind thumbs_up needs 'rating': an integer from 1 to 5, got 0.",
        FeedbackRules.violation(feedback(FeedbackKind.THUMBS_UP).setRating(0).build()).orElseThrow().message());
  }

  @Test
  void deletionNeedsWhatItForgets() {
    assertTrue(DeletionRules.violation(deletion(DeletionScope.ALL_USER_DATA).build()).isEmpty());
    assertTrue(DeletionRules.violation(deletion(DeletionScope.FEEDBACK).setTargetIds(List.of("f-1")).build()).isEmpty());
    assertEquals("scope interaction needs 'target_ids': the interaction ids to forget (none blank).",
        DeletionRules.violation(deletion(DeletionScope.INTERACTION).build()).orElseThrow().message(Violation::snakeCase));
    assertEquals("targetIds", DeletionRules.violation(deletion(DeletionScope.FEEDBACK).setTargetIds(List.of("f-1", " ")).build())
        .orElseThrow().field());
    assertEquals("concept", DeletionRules.violation(deletion(DeletionScope.PREFERENCE).build()).orElseThrow().field());
    assertEquals("userId", DeletionRules.violation(deletion(DeletionScope.CONCEPT).setUserId("").setConcept("x").build())
        .orElseThrow().field());
  }
}
