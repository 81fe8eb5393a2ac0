package io.marginal.personalization.bank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryBankUpdaterTest {

  private static BankEntry entry(String id, long ts, String r, String y, double w) {
    return BankEntry.newBuilder().setEntryId(id).setInteractionId("i-" + id).setFeedbackIds(List.of(id))
        .setInstanceEmbedding(List.of(1f, 0f)).setPrompt("p").setModelResponse(r).setPreferredResponse(y)
        .setWeight(w).setTimestamp(Instant.ofEpochMilli(ts)).build();
  }

  @Test
  void bankIsAPureFunctionOfItsEntriesWhateverTheArrivalOrder() {
    BankEntry a = entry("a", 1, "A", "B", 1);
    BankEntry b = entry("b", 2, "A", "B", 1);
    BankEntry c = entry("c", 3, "C", "C", -1);
    MemoryBank forward = MemoryBankUpdater.empty("u", Instant.EPOCH);
    for (BankEntry e : List.of(a, b, c)) {
      forward = MemoryBankUpdater.apply(forward, e, 10, Instant.EPOCH);
    }
    MemoryBank backward = MemoryBankUpdater.empty("u", Instant.EPOCH);
    for (BankEntry e : List.of(c, b, a)) {
      backward = MemoryBankUpdater.apply(backward, e, 10, Instant.EPOCH);
    }
    assertEquals(forward, backward);
    assertEquals(List.of(new TransitionCount("A", "B", 2.0), new TransitionCount("C", "C", -1.0)), forward.getTransitions());
    assertEquals(3, forward.getRevision());
  }

  @Test
  void evictionDropsTheOldestByTimestampThenId() {
    MemoryBank bank = MemoryBankUpdater.empty("u", Instant.EPOCH);
    bank = MemoryBankUpdater.apply(bank, entry("z", 5, "A", "B", 1), 2, Instant.EPOCH);
    bank = MemoryBankUpdater.apply(bank, entry("y", 1, "A", "B", 1), 2, Instant.EPOCH);
    bank = MemoryBankUpdater.apply(bank, entry("x", 5, "A", "C", 1), 2, Instant.EPOCH);
    assertEquals(List.of("x", "z"), bank.getEntries().stream().map(BankEntry::getEntryId).toList());
    assertEquals(List.of(new TransitionCount("A", "B", 1.0), new TransitionCount("A", "C", 1.0)), bank.getTransitions());
  }

  @Test
  void removingNothingReturnsTheSameBank() {
    MemoryBank bank = MemoryBankUpdater.apply(MemoryBankUpdater.empty("u", Instant.EPOCH), entry("a", 1, "A", "B", 1), 2, Instant.EPOCH);
    assertSame(bank, MemoryBankUpdater.remove(bank, e -> false, Instant.EPOCH));
    assertEquals(List.of(), MemoryBankUpdater.remove(bank, e -> true, Instant.EPOCH).getTransitions());
  }
}
