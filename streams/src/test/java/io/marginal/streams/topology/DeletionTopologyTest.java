package io.marginal.streams.topology;

import static io.marginal.streams.topology.Events.T0;
import static io.marginal.streams.topology.Events.deletion;
import static io.marginal.streams.topology.Events.interaction;
import static io.marginal.streams.topology.Events.preferred;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.BankEntry;
import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Example;
import io.marginal.schemas.ErasedItem;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each deletion scope, its receipt, and replay equivalence. */
class DeletionTopologyTest {

  private final TopologyFixture fx = new TopologyFixture(TopologyFixture.SETTINGS);

  @AfterEach
  void close() {
    fx.close();
  }

  /** Alice: three films; Bob: one. Alice also has feedback still waiting for an interaction. */
  private void seed() {
    fx.interact(interaction("alice", "i-1", "best sci-fi film?", "Inception", T0));
    fx.give(preferred("alice", "f-1", "i-1", "Arrival", T0 + 10));
    fx.interact(interaction("alice", "i-2", "a film about dreams?", "Inception", T0 + 20));
    fx.give(Events.feedback("alice", "f-2", "i-2", FeedbackKind.THUMBS_UP, null, null, T0 + 30));
    fx.interact(interaction("alice", "i-3", "a film with aliens?", "Alien", T0 + 40));
    fx.give(preferred("alice", "f-3", "i-3", "Arrival", T0 + 50));
    fx.give(preferred("alice", "f-4", "i-3", "Contact", T0 + 60));
    fx.give(preferred("alice", "f-9", "i-later", "Solaris", T0 + 70));
    fx.interact(interaction("bob", "i-b", "best sci-fi film?", "Inception", T0 + 80));
    fx.give(preferred("bob", "f-b", "i-b", "Dune", T0 + 90));
    fx.banks.drain();
  }

  @Test
  void allUserDataTombstonesTheBankAndEmptiesEveryStoreOfTheUser() {
    seed();
    fx.driver.advanceWallClockTime(Duration.ofSeconds(5));
    fx.delete(deletion("alice", "d-1", DeletionScope.ALL_USER_DATA, List.of(), null, T0 + 100));

    List<KeyValue<String, BankEntryChange>> out = fx.banks.readRecords();
    assertEquals(List.of("alice\u0000f-1", "alice\u0000f-2", "alice\u0000f-3", "alice\u0000f-4", "alice"),
        out.stream().map(kv -> kv.key).toList(), "a tombstone per entry (for compaction), then one for the whole bank");
    assertTrue(out.stream().allMatch(kv -> kv.value == null), "tombstones only on memory-banks");
    assertTrue(fx.keysOf(MemoryBankTopology.BANK_SUMMARIES_STORE, "alice").isEmpty());
    assertTrue(fx.keysOf(MemoryBankTopology.BANK_ORDER_STORE, "alice").isEmpty());
    assertNull(fx.bankOf("alice"));
    assertTrue(fx.keysOf(MemoryBankTopology.INTERACTIONS_STORE, "alice").isEmpty());
    assertTrue(fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").isEmpty());
    assertEquals(1, fx.bankOf("bob").getEntries().size(), "other users untouched");

    DeletionReceipt receipt = fx.receipts.readValue();
    assertEquals(ReceiptStatus.COMPLETED, receipt.getStatus());
    assertEquals("d-1", receipt.getDeletionId());
    Instant hiddenAt = Instant.ofEpochMilli(T0).plusSeconds(5);
    assertEquals(hiddenAt, receipt.getHiddenAt());
    assertEquals(hiddenAt.plusMillis(fx.topics.userDataErasureBoundMs()), receipt.getPhysicallyErasedBy());
    assertTrue(receipt.getPhysicallyErasedBy().isAfter(receipt.getHiddenAt()));
    assertTrue(receipt.getErased().contains(new ErasedItem(MemoryBankTopology.BANKS_STORE, "alice", 4)));
    assertTrue(receipt.getErased().contains(new ErasedItem(MemoryBankTopology.INTERACTIONS_STORE, "alice", 3)));
    assertTrue(receipt.getErased().contains(new ErasedItem(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice", 1)));
    assertTrue(fx.unlearning.isEmpty());

    // Feedback for a deleted interaction no longer joins: it waits, then is dead-lettered.
    fx.give(preferred("alice", "f-5", "i-1", "Arrival", T0 + 110));
    assertTrue(fx.banks.isEmpty());
  }

  @Test
  void interactionDeletionRemovesExactlyItsEntriesAndStoredInteraction() {
    seed();
    fx.delete(deletion("alice", "d-2", DeletionScope.INTERACTION, List.of("i-3"), null, T0 + 100));

    MemoryBank bank = fx.banks.readValue();
    assertEquals(List.of("f-1", "f-2"), ids(bank));
    assertEquals(List.of("alice\u0000i-1", "alice\u0000i-2"), fx.keysOf(MemoryBankTopology.INTERACTIONS_STORE, "alice"));
    DeletionReceipt receipt = fx.receipts.readValue();
    assertEquals(ReceiptStatus.COMPLETED, receipt.getStatus());
    assertTrue(receipt.getErased().contains(new ErasedItem(MemoryBankTopology.BANKS_STORE, "alice", 2)));
  }

  @Test
  void feedbackDeletionRemovesExactlyThatFeedbacksEntry() {
    seed();
    fx.delete(deletion("alice", "d-3", DeletionScope.FEEDBACK, List.of("f-3", "f-9"), null, T0 + 100));

    assertEquals(List.of("f-1", "f-2", "f-4"), ids(fx.banks.readValue()));
    assertTrue(fx.keysOf(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice").isEmpty(), "pending f-9 removed too");
    assertEquals(3, fx.keysOf(MemoryBankTopology.INTERACTIONS_STORE, "alice").size(), "interactions kept");
    DeletionReceipt receipt = fx.receipts.readValue();
    assertTrue(receipt.getErased().contains(new ErasedItem(MemoryBankTopology.PENDING_FEEDBACK_STORE, "alice", 1)));
  }

  @Test
  void deletingTheLastEntryTombstonesTheBank() {
    seed();
    fx.delete(deletion("bob", "d-4", DeletionScope.FEEDBACK, List.of("f-b"), null, T0 + 100));
    List<KeyValue<String, BankEntryChange>> out = fx.banks.readRecords();
    assertEquals(List.of(KeyValue.pair("bob\u0000f-b", null)), out);
    assertNull(fx.bankOf("bob"));
    assertTrue(fx.keysOf(MemoryBankTopology.BANK_SUMMARIES_STORE, "bob").isEmpty());
  }

  @Test
  void conceptDeletionRemovesMatchingEntriesAndRequestsUnlearningWithLineage() {
    fx.adapters.pipeInput("ad-alice-1", adapter("ad-alice-1", List.of("i-1", "f-1")), T0);
    fx.adapters.pipeInput("ad-other", adapter("ad-other", List.of("i-zzz")), T0);
    seed();
    fx.delete(deletion("alice", "d-5", DeletionScope.CONCEPT, List.of(), "inCEPtion", T0 + 100));

    // i-1 and i-2 served "Inception": their entries go; i-3 (Alien → Arrival, Contact) stays.
    assertEquals(List.of("f-3", "f-4"), ids(fx.banks.readValue()));
    assertEquals(List.of("alice\u0000i-3"), fx.keysOf(MemoryBankTopology.INTERACTIONS_STORE, "alice"));

    KeyValue<String, UnlearningRequest> kv = fx.unlearning.readKeyValue();
    assertEquals("user:alice", kv.key);
    UnlearningRequest request = kv.value;
    assertEquals("unlearn-d-5", request.getRequestId());
    assertEquals("user:alice", request.getScope());
    assertEquals("marginal-tiny", request.getBaseModel());
    assertEquals("d-5", request.getSourceDeletionId());
    assertEquals(Set.of(new Example("best sci-fi film?", "Inception", 1.0), new Example("a film about dreams?", "Inception", 1.0)),
        Set.copyOf(request.getForgetExamples()));
    assertTrue(request.getForgetExamples().stream().allMatch(e -> e.getResponse().toLowerCase().contains("inception")));
    assertEquals(Set.of("Arrival", "Contact"),
        Set.copyOf(request.getRetainExamples().stream().map(Example::getResponse).toList()));
    assertEquals("ad-alice-1", request.getLineage().get(0));
    assertFalse(request.getLineage().contains("ad-other"));
    assertTrue(request.getLineage().containsAll(List.of("i-1", "f-1", "i-2", "f-2")));

    DeletionReceipt receipt = fx.receipts.readValue();
    assertEquals(ReceiptStatus.PENDING_UNLEARNING, receipt.getStatus());
    assertEquals("unlearn-d-5", receipt.getUnlearningRequestId());
    assertEquals(1, fx.bankOf("bob").getEntries().size(), "bob's Inception entry is his own");
  }

  @Test
  void preferenceDeletionRemovesEntriesPreferringItAndRequestsUnlearning() {
    seed();
    fx.delete(deletion("alice", "d-6", DeletionScope.PREFERENCE, List.of(), "arrival", T0 + 100));

    assertEquals(List.of("f-2", "f-4"), ids(fx.banks.readValue()));
    UnlearningRequest request = fx.unlearning.readValue();
    assertEquals(Set.of(new Example("best sci-fi film?", "Arrival", 1.0), new Example("a film with aliens?", "Arrival", 1.0)),
        Set.copyOf(request.getForgetExamples()));
    assertEquals(ReceiptStatus.PENDING_UNLEARNING, fx.receipts.readValue().getStatus());
  }

  @Test
  void deletionForAnUnknownUserStillGetsAReceipt() {
    fx.delete(deletion("nobody", "d-7", DeletionScope.ALL_USER_DATA, List.of(), null, T0));
    DeletionReceipt receipt = fx.receipts.readValue();
    assertEquals(ReceiptStatus.COMPLETED, receipt.getStatus());
    assertTrue(receipt.getDetail().contains("nothing held"), receipt.getDetail());
    fx.delete(deletion("nobody", "d-8", DeletionScope.CONCEPT, List.of(), "dune", T0));
    assertEquals(ReceiptStatus.COMPLETED, fx.receipts.readValue().getStatus());
    assertTrue(fx.unlearning.isEmpty());
  }

  @Test
  void malformedDeletionIsRejectedWithTheReasonAndDeletesNothing() {
    seed();
    fx.delete(deletion("alice", "d-9", DeletionScope.INTERACTION, List.of(), null, T0 + 100));
    DeletionReceipt receipt = fx.receipts.readValue();
    assertEquals(ReceiptStatus.REJECTED, receipt.getStatus());
    assertTrue(receipt.getDetail().contains("needs 'targetIds'"), receipt.getDetail());
    assertEquals(4, fx.bankOf("alice").getEntries().size());
  }

  // ---- replay equivalence ----

  @Test
  void bankAfterDeletionEqualsTheBankOfAReplayWithoutTheDeletedEvents() {
    Random random = new Random(42);
    List<Object> events = randomHistory(random, 3, 40);
    for (int round = 0; round < 6; round++) {
      List<Interaction> interactions = events.stream().filter(Interaction.class::isInstance).map(Interaction.class::cast).toList();
      List<Feedback> feedback = events.stream().filter(Feedback.class::isInstance).map(Feedback.class::cast).toList();
      boolean byInteraction = round % 2 == 0;
      Set<String> doomed = new HashSet<>();
      String user = "u" + random.nextInt(3);
      List<String> pool = byInteraction
          ? interactions.stream().filter(i -> i.getUserId().equals(user)).map(Interaction::getInteractionId).toList()
          : feedback.stream().filter(f -> f.getUserId().equals(user)).map(Feedback::getFeedbackId).toList();
      for (String id : pool) {
        if (random.nextDouble() < 0.3) {
          doomed.add(id);
        }
      }

      Map<String, MemoryBank> withDeletion;
      try (TopologyFixture run = new TopologyFixture(TopologyFixture.SETTINGS)) {
        replay(run, events);
        run.delete(deletion(user, "d-" + round, byInteraction ? DeletionScope.INTERACTION : DeletionScope.FEEDBACK,
            new ArrayList<>(doomed), null, T0 + 1_000_000));
        withDeletion = run.bankTopicView();
      }
      List<Object> without = events.stream().filter(e -> !(byInteraction
          ? (e instanceof Interaction i && doomed.contains(i.getInteractionId()))
              || (e instanceof Feedback f && doomed.contains(f.getInteractionId()))
          : e instanceof Feedback f && doomed.contains(f.getFeedbackId()))).toList();
      Map<String, MemoryBank> replayed;
      try (TopologyFixture run = new TopologyFixture(TopologyFixture.SETTINGS)) {
        replay(run, without);
        replayed = run.bankTopicView();
      }
      assertEquals(content(replayed), content(withDeletion), "round " + round + " deleting " + doomed + " of " + user);
    }
  }

  /** Interactions and feedback (some feedback before its interaction) for several users. */
  private static List<Object> randomHistory(Random random, int users, int interactionsPerUser) {
    List<Object> events = new ArrayList<>();
    String[] films = {"Inception", "Arrival", "Dune", "Alien", "Contact", "Solaris"};
    for (int u = 0; u < users; u++) {
      for (int n = 0; n < interactionsPerUser; n++) {
        String user = "u" + u;
        String id = user + "-i" + n;
        long t = T0 + (u * interactionsPerUser + n) * 1000L;
        events.add(interaction(user, id, "prompt " + n, films[random.nextInt(films.length)], t));
        int feedbacks = random.nextInt(3);
        for (int k = 0; k < feedbacks; k++) {
          FeedbackKind kind = FeedbackKind.values()[random.nextInt(FeedbackKind.values().length)];
          Feedback f = Events.feedback(user, id + "-f" + k, id, kind, films[random.nextInt(films.length)],
              1 + random.nextInt(5), t + 10 + k);
          // A third of the feedback arrives before its interaction.
          events.add(random.nextInt(3) == 0 ? events.size() - 1 - k : events.size(), f);
        }
      }
    }
    return events;
  }

  private static void replay(TopologyFixture run, List<Object> events) {
    for (Object e : events) {
      if (e instanceof Interaction i) {
        run.interact(i);
      } else if (e instanceof Feedback f) {
        run.give(f);
      }
    }
  }

  /** Bank content without the change bookkeeping (revision, updatedAt); a tombstone reads as absent. */
  private static Map<String, List<Object>> content(Map<String, MemoryBank> banks) {
    Map<String, List<Object>> out = new java.util.TreeMap<>();
    banks.forEach((user, bank) -> {
      if (bank != null) {
        out.put(user, List.of(bank.getEntries(), bank.getTransitions()));
      }
    });
    return out;
  }

  private static List<String> ids(MemoryBank bank) {
    return bank.getEntries().stream().map(BankEntry::getEntryId).toList();
  }

  private static AdapterPublished adapter(String id, List<String> lineage) {
    return AdapterPublished.newBuilder().setAdapterId(id).setScope("user:alice").setVersion(1)
        .setStatus(AdapterStatus.PUBLISHED).setBaseModel("marginal-tiny").setRequestId("r-" + id)
        .setLineage(lineage).setTimestamp(Instant.ofEpochMilli(T0)).build();
  }
}
