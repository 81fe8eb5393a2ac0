package io.marginal.personalization.bank;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Pure bank-update functions (no Kafka): apply an entry, evict, remove entries.
 *
 * <p>Invariant: a bank's content (entries and transition aggregates) is a pure function of its
 * surviving entries. Entries are kept sorted by (timestamp, entryId), whatever order they arrived in,
 * and the transition aggregates are recomputed from them after every change. That is what makes a
 * deletion exact: removing entries yields the bank that replaying the events without them would
 * have built (only {@code revision} and {@code updatedAt}, the bookkeeping of changes, differ).
 *
 * <p>Eviction: at most {@code maxEntries} per user; beyond that the oldest entries (by feedback
 * timestamp, then entry id) are dropped. Recent preferences win, and the bank's size is bounded.
 * Eviction is permanent: a later deletion of a newer entry does not bring an evicted one back, so
 * replay equivalence is exact only while the bank has not overflowed between the events and the
 * deletion.
 */
public final class MemoryBankUpdater {

  static final Comparator<BankEntry> AGE_ORDER =
      Comparator.comparing(BankEntry::getTimestamp).thenComparing(BankEntry::getEntryId);

  private MemoryBankUpdater() {
  }

  public static MemoryBank empty(String userId, Instant at) {
    return MemoryBank.newBuilder().setUserId(userId).setRevision(0).setUpdatedAt(at)
        .setEntries(List.of()).setTransitions(List.of()).build();
  }

  /**
   * Adds (or, for the same entry id, replaces) an entry and evicts beyond {@code maxEntries}.
   * The revision increases even for a replacement: it counts processed changes, which is how the
   * restart test sees a double-processed event.
   */
  public static MemoryBank apply(MemoryBank bank, BankEntry entry, int maxEntries, Instant at) {
    List<BankEntry> entries = new ArrayList<>(bank.getEntries().size() + 1);
    for (BankEntry e : bank.getEntries()) {
      if (!e.getEntryId().equals(entry.getEntryId())) {
        entries.add(e);
      }
    }
    entries.add(entry);
    return rebuild(bank, evictOldest(entries, maxEntries), at);
  }

  /** Removes every entry matching {@code doomed}; returns the same bank object when nothing matched. */
  public static MemoryBank remove(MemoryBank bank, Predicate<BankEntry> doomed, Instant at) {
    List<BankEntry> kept = bank.getEntries().stream().filter(doomed.negate()).toList();
    if (kept.size() == bank.getEntries().size()) {
      return bank;
    }
    return rebuild(bank, new ArrayList<>(kept), at);
  }

  /** Keeps the newest {@code maxEntries}; the list is sorted oldest first on return. */
  static List<BankEntry> evictOldest(List<BankEntry> entries, int maxEntries) {
    entries.sort(AGE_ORDER);
    if (entries.size() <= maxEntries) {
      return entries;
    }
    return new ArrayList<>(entries.subList(entries.size() - maxEntries, entries.size()));
  }

  /** Aggregate weight per (model response, preferred response), sorted; instance-independent. */
  public static List<TransitionCount> transitions(List<BankEntry> entries) {
    Map<String, Map<String, Double>> sums = new TreeMap<>();
    for (BankEntry e : entries) {
      sums.computeIfAbsent(e.getModelResponse(), k -> new TreeMap<>())
          .merge(e.getPreferredResponse(), e.getWeight(), Double::sum);
    }
    List<TransitionCount> out = new ArrayList<>();
    sums.forEach((from, row) -> row.forEach((to, w) -> out.add(new TransitionCount(from, to, w))));
    return out;
  }

  /**
   * The bank made of these entries (any order): sorted by age, aggregates computed. Used by readers of
   * the per-entry store and topic, which keep entries individually and assemble a bank only to read it.
   */
  public static MemoryBank assemble(String userId, long revision, Instant updatedAt, List<BankEntry> entries) {
    List<BankEntry> sorted = new ArrayList<>(entries);
    sorted.sort(AGE_ORDER);
    return MemoryBank.newBuilder().setUserId(userId).setRevision(revision).setUpdatedAt(updatedAt)
        .setEntries(List.copyOf(sorted)).setTransitions(transitions(sorted)).build();
  }

  private static MemoryBank rebuild(MemoryBank previous, List<BankEntry> entries, Instant at) {
    entries.sort(AGE_ORDER);
    return MemoryBank.newBuilder()
        .setUserId(previous.getUserId())
        .setRevision(previous.getRevision() + 1)
        .setUpdatedAt(at)
        .setEntries(List.copyOf(entries))
        .setTransitions(transitions(entries))
        .build();
  }
}
