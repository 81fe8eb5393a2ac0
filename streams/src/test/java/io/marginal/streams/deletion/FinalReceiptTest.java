package io.marginal.streams.deletion;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.receipts.DeletionReceipts;
import io.marginal.streams.topology.Events;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trainer's final receipt of a deletion keeps the deletion's scope and hiddenAt: a PREFERENCE
 * deletion that names what it is about (its concept) used to end UNLEARNED with scope CONCEPT and a
 * new hiddenAt, replacing the PREFERENCE receipt in the nodes' replicas.
 */
class FinalReceiptTest {

  @Test
  void aPreferenceDeletionEndsUnlearnedWithScopePreferenceAndItsOriginalHiddenAt() {
    DeletionRequest deletion = Events.deletion("alice", "del-7", DeletionScope.PREFERENCE, List.of(), "sci-fi films", 1_000);
    Instant hiddenAt = Instant.parse("2026-12-05T10:00:00Z");
    UnlearningRequest request = UnlearningRequests.build(deletion, new DeletionMatcher(deletion), List.of(), List.of(), List.of(),
        List.of(), List.of(), "marginal-demo", 8, hiddenAt);
    Instant trainedAt = hiddenAt.plusSeconds(20);
    DeletionReceipt receipt = DeletionReceipts.unlearningEnded(request, ReceiptStatus.UNLEARNED, "user-alice@3:abc", "trained",
        60_000, trainedAt);
    assertEquals(DeletionScope.PREFERENCE, receipt.getScope());
    assertEquals(hiddenAt, receipt.getHiddenAt());
    assertEquals(hiddenAt.plusMillis(60_000), receipt.getPhysicallyErasedBy());
    assertEquals(trainedAt, receipt.getTimestamp());
    assertEquals("del-7", receipt.getDeletionId());
    assertEquals(ReceiptStatus.UNLEARNED, receipt.getStatus());
  }

  @Test
  void aConceptDeletionStaysConceptAndOldRequestsFallBack() {
    DeletionRequest deletion = Events.deletion("bob", "del-8", DeletionScope.CONCEPT, List.of(), "Inception", 1_000);
    Instant hiddenAt = Instant.parse("2026-12-05T11:00:00Z");
    UnlearningRequest request = UnlearningRequests.build(deletion, new DeletionMatcher(deletion), List.of(), List.of(), List.of(),
        List.of(), List.of(), "marginal-demo", 8, hiddenAt);
    assertEquals(DeletionScope.CONCEPT,
        DeletionReceipts.unlearningEnded(request, ReceiptStatus.UNLEARNED, null, "", 0, hiddenAt.plusSeconds(5)).getScope());
    // a v1 request (no deletionScope / hiddenAt): scope from the concept, hiddenAt = now
    UnlearningRequest v1 = UnlearningRequest.newBuilder(request).setDeletionScope(null).setHiddenAt(null).build();
    DeletionReceipt old = DeletionReceipts.unlearningEnded(v1, ReceiptStatus.REJECTED, null, "", 0, hiddenAt.plusSeconds(5));
    assertEquals(DeletionScope.CONCEPT, old.getScope());
    assertEquals(hiddenAt.plusSeconds(5), old.getHiddenAt());
  }
}
