package io.marginal.personalization.bank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A replica folds per-entry upserts and tombstones into banks, and a cold one rebuilds from the records. */
class ReplicatedBanksTest {

  private static BankEntry entry(String id, String r, String y, double w, long ts) {
    return BankEntry.newBuilder().setEntryId(id).setInteractionId("i-" + id).setFeedbackIds(List.of(id))
        .setInstanceEmbedding(List.of(1f, 0f)).setPrompt("p").setModelResponse(r).setPreferredResponse(y).setWeight(w)
        .setTimestamp(Instant.ofEpochMilli(ts)).build();
  }

  private static BankEntryChange wire(BankEntryChange change) {
    return BankChanges.SERDE.deserialize("t", BankChanges.SERDE.serialize("t", change));
  }

  @Test
  void upsertsTombstonesAndAUserTombstoneBuildTheBankAReaderExpects() {
    ReplicatedBanks replica = new ReplicatedBanks();
    replica.apply(BankChanges.entryKey("alice", "f-2"), wire(BankChanges.upsert("alice", 2, 20, entry("f-2", "A", "B", 1, 20))));
    replica.apply(BankChanges.entryKey("alice", "f-1"), wire(BankChanges.upsert("alice", 1, 10, entry("f-1", "A", "B", 0.5, 10))));
    replica.apply(BankChanges.entryKey("bob", "f-9"), wire(BankChanges.upsert("bob", 1, 5, entry("f-9", "A", "A", -1, 5))));

    MemoryBank alice = replica.bankOf("alice").orElseThrow();
    assertEquals(List.of("f-1", "f-2"), alice.getEntries().stream().map(BankEntry::getEntryId).toList(), "age order");
    assertEquals(List.of(new TransitionCount("A", "B", 1.5)), alice.getTransitions());
    assertEquals(2, alice.getRevision(), "an older record arriving later does not lower the revision");
    assertSame(alice, replica.bankOf("alice").orElseThrow(), "assembled once per change");

    replica.apply(BankChanges.entryKey("alice", "f-2"), null);
    assertEquals(List.of(new TransitionCount("A", "B", 0.5)), replica.bankOf("alice").orElseThrow().getTransitions());
    replica.apply("alice", null);
    assertTrue(replica.bankOf("alice").isEmpty());
    replica.apply(BankChanges.entryKey("alice", "f-1"), null); // a tombstone for an entry no longer held: nothing to do
    assertEquals(1, replica.users());
    assertEquals(1, replica.entryCount("bob"));
  }

  @Test
  void keysSplitIntoUserAndEntry() {
    assertEquals("alice", BankChanges.userOf("alice\u0000f-1"));
    assertEquals("f-1", BankChanges.entryIdOf("alice\u0000f-1"));
    assertEquals("alice", BankChanges.userOf("alice"));
    assertEquals(null, BankChanges.entryIdOf("alice"));
  }
}
