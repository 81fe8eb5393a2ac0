package io.marginal.inference.personalization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import io.marginal.personalization.cm.KnnDiscrepancyEstimator;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CmSelectorTest {

  static final float[] X = {1f, 0f, 0f};
  static final CmSelector SELECTOR = new CmSelector(KnnDiscrepancyEstimator.defaults());

  static MemoryBank bank(float[] at, String from, String to, double weight) {
    return MemoryBank.newBuilder().setUserId("u").setRevision(1).setUpdatedAt(Instant.EPOCH)
        .setEntries(List.of(BankEntry.newBuilder().setEntryId("e").setInteractionId("i").setFeedbackIds(List.of())
            .setInstanceEmbedding(List.of(at[0], at[1], at[2])).setModelResponse(from).setPreferredResponse(to)
            .setWeight(weight).setTimestamp(Instant.EPOCH).build()))
        .setTransitions(List.of(new TransitionCount(from, to, weight))).build();
  }

  @Test
  void withoutFeedbackTheBaseModelsFavouriteWins() {
    double[] lp = {Math.log(0.7), Math.log(0.3)};
    CmSelector.Choice c = SELECTOR.choose(MemoryBank.newBuilder().setUserId("u").setRevision(0).setUpdatedAt(Instant.EPOCH)
        .setEntries(List.of()).build(), X, List.of("a", "b"), lp, 0, 0);
    assertEquals("a", c.answer());
    assertEquals(0.7, c.base().get("a"), 1e-9);
    assertEquals(c.base(), c.personalized());
  }

  @Test
  void nearbyFeedbackMovesMassToThePreferredResponse() {
    double[] lp = {Math.log(0.7), Math.log(0.3)};
    CmSelector.Choice c = SELECTOR.choose(bank(X, "a", "b", 5), X, List.of("a", "b"), lp, 0, 0);
    assertEquals("b", c.answer());
    assertEquals(1.0, c.personalized().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
    assertTrue(c.personalized().get("b") > 0.8);
  }

  @Test
  void feedbackOnAFarInstanceChangesNothing() {
    double[] lp = {Math.log(0.7), Math.log(0.3)};
    CmSelector.Choice c = SELECTOR.choose(bank(new float[] {0f, 1f, 0f}, "a", "b", 5), X, List.of("a", "b"), lp, 0, 0);
    assertEquals("a", c.answer());
  }

  @Test
  void preferredResponsesOfNearbyEntriesBecomeCandidates() {
    assertEquals(List.of("b"), CmSelector.preferredNearby(bank(X, "a", "b", 5), X, 3, 0.1));
    assertEquals(List.of(), CmSelector.preferredNearby(bank(new float[] {0f, 1f, 0f}, "a", "b", 5), X, 3, 0.1));
  }
}
