package io.marginal.streams.topology;

import static io.marginal.streams.topology.Events.T0;
import static io.marginal.streams.topology.Events.deletion;
import static io.marginal.streams.topology.Events.interaction;
import static io.marginal.streams.topology.Events.preferred;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Example;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A deletion processed before records it is about (three topics, no order between them): what was served
 * before the deletion but arrives after it is never stored, and a concept deletion still gets it unlearned.
 */
class LateArrivalTopologyTest {

  private final TopologyFixture fx = new TopologyFixture(TopologyFixture.SETTINGS);

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void conceptDeletionBeforeItsInteractionsSendsThemForUnlearningInOneRequest() {
    fx.delete(deletion("alice", "d-1", DeletionScope.CONCEPT, List.of(), "Inception", T0 + 100));
    DeletionReceipt first = fx.receipts.readValue();
    assertEquals(ReceiptStatus.COMPLETED, first.getStatus(), "nothing held yet");
    assertTrue(first.getDetail().toString().contains("records served before this deletion that arrive within PT5M are covered too"),
        first.getDetail().toString());
    assertTrue(fx.unlearning.isEmpty());

    // served before the deletion was asked, arriving after it
    fx.interact(interaction("alice", "i-1", "recommend me a sci-fi film", "You should watch Inception.", T0 + 10));
    fx.interact(interaction("alice", "i-2", "what is your favorite movie", "My favorite movie is Inception.", T0 + 20));
    fx.interact(interaction("alice", "i-3", "tell me a joke", "Why did the robot cross the road?", T0 + 30));
    // served after the deletion: the user's own business again
    fx.interact(interaction("alice", "i-4", "best film about dreams", "Inception.", T0 + 200));

    assertEquals(List.of("alice\u0000i-3", "alice\u0000i-4"), fx.keysOf(MemoryBankTopology.INTERACTIONS_STORE, "alice"));
    assertTrue(fx.unlearning.isEmpty(), "late matches wait for the wall-clock flush");

    fx.driver.advanceWallClockTime(MemoryBankProcessor.LATE_MATCH_FLUSH.plusMillis(1));
    UnlearningRequest request = fx.unlearning.readValue();
    assertEquals("unlearn-d-1-late-i-1", request.getRequestId());
    assertEquals("user:alice", request.getScope());
    assertEquals("Inception", request.getConcept());
    assertEquals(List.of("recommend me a sci-fi film", "what is your favorite movie"),
        request.getForgetExamples().stream().map(Example::getPrompt).toList());
    assertEquals(List.of("i-1", "i-2"), request.getLineage());
    assertTrue(fx.unlearning.isEmpty(), "one request for the burst");

    DeletionReceipt pending = fx.receipts.readValue();
    assertEquals(ReceiptStatus.PENDING_UNLEARNING, pending.getStatus());
    assertEquals("d-1", pending.getDeletionId());
    assertEquals("unlearn-d-1-late-i-1", pending.getUnlearningRequestId());
    assertEquals(2, pending.getErased().get(0).getCount());
    assertTrue(fx.keysOf(MemoryBankTopology.LATE_MATCHES_STORE, "alice").isEmpty());

    fx.driver.advanceWallClockTime(MemoryBankProcessor.LATE_MATCH_FLUSH.plusMillis(1));
    assertTrue(fx.unlearning.isEmpty(), "sent once");
  }

  @Test
  void allDataDeletionDropsInteractionsAndFeedbackServedBeforeIt() {
    fx.delete(deletion("alice", "d-2", DeletionScope.ALL_USER_DATA, List.of(), null, T0 + 100));
    fx.receipts.readValuesToList();
    fx.banks.drain(); // the deletion's tombstone
    fx.interact(interaction("alice", "i-1", "hello", "Hi there.", T0 + 10));
    fx.give(preferred("alice", "f-1", "i-1", "Hello!", T0 + 50));
    assertTrue(fx.keysOf(MemoryBankTopology.INTERACTIONS_STORE, "alice").isEmpty());
    assertTrue(fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").isEmpty());
    assertNull(fx.bankOf("alice"));
    assertTrue(fx.banks.isEmpty(), "no bank was ever published for the late data");

    fx.interact(interaction("alice", "i-2", "hello again", "Hi there.", T0 + 300));
    fx.give(preferred("alice", "f-2", "i-2", "Hello!", T0 + 310));
    assertEquals(1, fx.bankOf("alice").getEntries().size(), "data given after the deletion is kept");
    fx.driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertTrue(fx.unlearning.isEmpty());
    assertTrue(fx.deadLetters.isEmpty(), "deleted data never goes to the dead-letter topic");
  }

  @Test
  void deletionsAreForgottenAfterTheFeedbackWindow() {
    fx.delete(deletion("alice", "d-3", DeletionScope.ALL_USER_DATA, List.of(), null, T0));
    assertEquals(1, fx.keysOf(MemoryBankTopology.RECENT_DELETIONS_STORE, "alice").size());
    // stream time moves past the window; the sweep runs
    fx.interact(interaction("bob", "i-b", "hello", "Hi.", T0 + Duration.ofMinutes(6).toMillis()));
    assertTrue(fx.keysOf(MemoryBankTopology.RECENT_DELETIONS_STORE, "alice").isEmpty());
  }
}
