package io.marginal.streams.topology;

import static io.marginal.streams.topology.Events.T0;
import static io.marginal.streams.topology.Events.feedback;
import static io.marginal.streams.topology.Events.interaction;
import static io.marginal.streams.topology.Events.preferred;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.streams.app.StreamsAppConfig.BankSettings;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The interaction ⋈ feedback join, out-of-order and late feedback, and the bank bound. */
class MemoryBankTopologyTest {

  private static final Duration WINDOW = Duration.ofMinutes(5);
  private static final Duration RETENTION = Duration.ofHours(1);
  private TopologyFixture fx = new TopologyFixture(settings(256));

  static BankSettings settings(int maxEntries) {
    return new BankSettings(WINDOW, RETENTION, maxEntries, 64, "marginal-tiny", Duration.ofSeconds(10));
  }

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void feedbackJoinedWithItsInteractionBecomesADiscrepancyEntry() {
    fx.interact(interaction("alice", "i-1", "best sci-fi film?", "Inception", T0));
    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0 + 1000));

    MemoryBank bank = fx.banks.readValue();
    assertEquals("alice", bank.getUserId());
    assertEquals(1, bank.getEntries().size());
    BankEntry e = bank.getEntries().get(0);
    assertEquals("i-1", e.getInteractionId());
    assertEquals(List.of("f-1"), e.getFeedbackIds());
    assertEquals("best sci-fi film?", e.getPrompt());
    assertEquals("Inception", e.getModelResponse());
    assertEquals("Arrival", e.getPreferredResponse());
    assertEquals(1.0, e.getWeight());
    assertEquals(8, e.getInstanceEmbedding().size());
    assertEquals(List.of(new TransitionCount("Inception", "Arrival", 1.0)), bank.getTransitions());
    assertEquals(bank, fx.bankOf("alice"));
    assertTrue(fx.deadLetters.isEmpty());
  }

  @Test
  void feedbackKindsMapToSignedEntriesAndNeutralRatingAddsNothing() {
    fx.interact(interaction("alice", "i-1", "q1", "A", T0));
    fx.interact(interaction("alice", "i-2", "q2", "B", T0));
    fx.interact(interaction("alice", "i-3", "q3", "C", T0));
    fx.give(feedback("alice", "f-1", "i-1", FeedbackKind.THUMBS_UP, null, null, T0 + 1));
    fx.give(feedback("alice", "f-2", "i-2", FeedbackKind.THUMBS_DOWN, null, null, T0 + 2));
    fx.give(feedback("alice", "f-3", "i-3", FeedbackKind.RATING, null, 3, T0 + 3));
    fx.give(feedback("alice", "f-4", "i-3", FeedbackKind.RATING, null, 5, T0 + 4));
    fx.give(feedback("alice", "f-5", "i-3", FeedbackKind.CORRECTION, "D", null, T0 + 5));

    List<BankEntry> entries = fx.bankOf("alice").getEntries();
    assertEquals(List.of("f-1", "f-2", "f-4", "f-5"), entries.stream().map(BankEntry::getEntryId).toList());
    assertEquals(List.of(1.0, -1.0, 1.0, 1.0), entries.stream().map(BankEntry::getWeight).toList());
    assertEquals("B", entries.get(1).getPreferredResponse());
    assertEquals("D", entries.get(3).getPreferredResponse());
  }

  @Test
  void feedbackBeforeItsInteractionIsBufferedAndJoinedWhenTheInteractionArrives() {
    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0));
    assertTrue(fx.banks.isEmpty());
    assertEquals(1, fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").size());

    fx.interact(interaction("alice", "i-1", "best sci-fi film?", "Inception", T0 + 2000));

    MemoryBank bank = fx.banks.readValue();
    assertEquals("Arrival", bank.getEntries().get(0).getPreferredResponse());
    assertTrue(fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").isEmpty());
    assertTrue(fx.deadLetters.isEmpty());
  }

  @Test
  void feedbackWhoseInteractionNeverArrivesIsDeadLetteredAfterTheWindowWithTheReason() {
    fx.give(preferred("alice", "f-1", "i-missing", "Arrival", T0));
    // Within the window: still waiting.
    fx.interact(interaction("bob", "i-b1", "q", "r", T0 + WINDOW.toMillis() - 1000));
    assertTrue(fx.deadLetters.isEmpty());
    // Stream time passes the window (and a sweep interval): dead-lettered, buffer emptied.
    fx.interact(interaction("bob", "i-b2", "q", "r", T0 + WINDOW.toMillis() + 20_000));

    DeadLetter letter = fx.deadLetters.readValue();
    assertTrue(letter.getReason().contains("unmatched feedback f-1"), letter.getReason());
    assertTrue(letter.getReason().contains("i-missing") && letter.getReason().contains("PT5M"), letter.getReason());
    assertEquals(fx.topics.name(io.marginal.schemas.topics.Topics.FEEDBACK), letter.getSourceTopic());
    assertEquals("f-1", MarginalSerdes.FEEDBACK.deserialize("", bytes(letter.getValue())).getFeedbackId());
    assertTrue(fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").isEmpty());
    assertNull(fx.bankOf("alice"));
    assertTrue(fx.deadLetters.isEmpty());
  }

  @Test
  void lateFeedbackForAnExpiredInteractionIsDeadLetteredAtOnce() {
    fx.interact(interaction("alice", "i-1", "q", "Inception", T0));
    // Stream time moves past the retention: the interaction is swept.
    fx.interact(interaction("bob", "i-b1", "q", "r", T0 + RETENTION.toMillis() + 60_000));
    assertTrue(fx.keysOf(MemoryBankTopology.INTERACTIONS_STORE, "alice").isEmpty());

    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0 + 1000));

    org.apache.kafka.streams.test.TestRecord<String, DeadLetter> record = fx.deadLetters.readRecord();
    DeadLetter letter = record.value();
    assertTrue(letter.getReason().startsWith("late feedback f-1 for interaction i-1"), letter.getReason());
    assertEquals(0L, letter.getOffset());
    // The origin and reason also travel as headers, for routing and replay without decoding the value.
    assertEquals(letter.getSourceTopic(), header(record, io.marginal.schemas.deadletter.DeadLetters.HEADER_TOPIC));
    assertEquals("0", header(record, io.marginal.schemas.deadletter.DeadLetters.HEADER_OFFSET));
    assertEquals(letter.getReason(), header(record, io.marginal.schemas.deadletter.DeadLetters.HEADER_MESSAGE));
    assertNull(fx.bankOf("alice"));
    assertTrue(fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").isEmpty());
  }

  @Test
  void invalidFeedbackIsDeadLetteredWithWhatToFix() {
    fx.interact(interaction("alice", "i-1", "q", "Inception", T0));
    fx.give(preferred("alice", "f-1", "i-1", " ", T0 + 1));
    fx.give(feedback("alice", "f-2", "i-1", FeedbackKind.RATING, null, 9, T0 + 2));

    List<DeadLetter> letters = fx.deadLetters.readValuesToList();
    assertEquals(2, letters.size());
    assertTrue(letters.get(1).getReason().contains("needs 'rating': an integer from 1 to 5, got 9"), letters.get(1).getReason());
    assertNull(fx.bankOf("alice"));
    assertTrue(letters.get(0).getReason().contains("needs 'preferredResponse'"), letters.get(0).getReason());
  }

  @Test
  void recordKeyedByAnotherUserIsDeadLettered() {
    fx.interact(interaction("alice", "i-1", "q", "Inception", T0));
    fx.feedback.pipeInput("mallory", preferred("alice", "f-1", "i-1", "Arrival", T0 + 1), T0 + 1);
    DeadLetter letter = fx.deadLetters.readValue();
    assertTrue(letter.getReason().contains("key=mallory"), letter.getReason());
    assertNull(fx.bankOf("mallory"));
    assertNull(fx.bankOf("alice"));
  }

  @Test
  void redeliveredFeedbackReplacesItsEntryInsteadOfCountingTwice() {
    fx.interact(interaction("alice", "i-1", "q", "Inception", T0));
    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0 + 1));
    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0 + 1));
    MemoryBank bank = fx.bankOf("alice");
    assertEquals(1, bank.getEntries().size());
    assertEquals(1.0, bank.getTransitions().get(0).getWeight());
  }

  @Test
  void bankIsBoundedByEvictingTheOldestEntries() {
    fx.close();
    fx = new TopologyFixture(settings(3));
    for (int n = 0; n < 5; n++) {
      fx.interact(interaction("alice", "i-" + n, "q" + n, "A", T0 + n));
      fx.give(preferred("alice", "f-" + n, "i-" + n, "B" + n, T0 + 100 + n));
    }
    MemoryBank bank = fx.bankOf("alice");
    assertEquals(List.of("f-2", "f-3", "f-4"), bank.getEntries().stream().map(BankEntry::getEntryId).toList());
    assertEquals(3, bank.getTransitions().size(), "aggregates recomputed from the surviving entries");
  }

  @Test
  void evictionPopsTheOldestArrivalSkippingDeletedSlotsAndPublishesItsTombstone() {
    fx.close();
    fx = new TopologyFixture(settings(3));
    for (int n = 0; n < 3; n++) {
      fx.interact(interaction("alice", "i-" + n, "q" + n, "A", T0 + n));
      fx.give(preferred("alice", "f-" + n, "i-" + n, "B" + n, T0 + 100 + n));
    }
    fx.delete(Events.deletion("alice", "d-1", io.marginal.schemas.DeletionScope.FEEDBACK, List.of("f-0"), null, T0 + 200));
    fx.banks.drain();
    // f-2 redelivered: it keeps its arrival slot, so it is still older than f-3 and f-4.
    fx.give(preferred("alice", "f-2", "i-2", "B2", T0 + 102));
    for (int n = 3; n < 5; n++) {
      fx.interact(interaction("alice", "i-" + n, "q" + n, "A", T0 + 300 + n));
      fx.give(preferred("alice", "f-" + n, "i-" + n, "B" + n, T0 + 400 + n));
    }
    List<org.apache.kafka.streams.KeyValue<String, io.marginal.schemas.BankEntryChange>> out = fx.banks.readRecords();
    assertEquals(List.of("alice\u0000f-2", "alice\u0000f-3", "alice\u0000f-4", "alice\u0000f-1"),
        out.stream().map(kv -> kv.key).toList(), "f-0's slot is a hole: f-4 evicts f-1, the oldest arrival left");
    assertNull(out.get(3).value, "the evicted entry is tombstoned on memory-banks");
    assertEquals(List.of("f-2", "f-3", "f-4"), fx.bankOf("alice").getEntries().stream().map(BankEntry::getEntryId).toList());
    assertEquals(fx.bankOf("alice").getEntries(), fx.banks.view().get("alice").getEntries(), "replica equals the store");
    assertEquals(3, fx.keysOf(MemoryBankTopology.BANK_ORDER_STORE, "alice").size(), "one ring slot per live entry");

    fx.interact(interaction("alice", "i-5", "q5", "A", T0 + 505));
    fx.give(preferred("alice", "f-5", "i-5", "B5", T0 + 506));
    assertEquals(List.of("f-3", "f-4", "f-5"), fx.bankOf("alice").getEntries().stream().map(BankEntry::getEntryId).toList());
    assertEquals(8, fx.bankOf("alice").getRevision(), "six upserts, one redelivery and one deletion: one change each");
  }

  @Test
  void waitingFeedbackIsFoundByItsInteractionKeyAndARedeliveryWaitsOnce() {
    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0));
    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0));
    fx.give(preferred("alice", "f-2", "i-1", "Dune", T0 + 1));
    assertEquals(List.of("alice\u0000i-1"), fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice"));
    fx.interact(interaction("alice", "i-1", "best sci-fi film?", "Inception", T0 + 2));
    assertEquals(List.of("f-1", "f-2"), fx.bankOf("alice").getEntries().stream().map(BankEntry::getEntryId).toList());
    assertTrue(fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").isEmpty());
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static String header(org.apache.kafka.streams.test.TestRecord<?, ?> record, String name) {
    org.apache.kafka.common.header.Header h = record.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
  }
}
