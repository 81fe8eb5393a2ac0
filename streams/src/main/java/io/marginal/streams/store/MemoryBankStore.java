package io.marginal.streams.store;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.bank.BankChanges;
import io.marginal.personalization.bank.MemoryBankUpdater;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * A user's memory bank kept entry by entry, so that a feedback event costs O(1) whatever the bank's size:
 *
 * <ul>
 *   <li>{@code entries}: {@code user U+0000 entryId} → (arrival seq, entry);</li>
 *   <li>{@code summaries}: {@code user} → {@link BankSummary} (count, revision, ring bounds);</li>
 *   <li>{@code order}: {@code user U+0000 seq} → entryId, the arrival-order ring. Eviction pops its oldest
 *       slot (point lookups only); slots of deleted entries are removed with them, and eviction skips
 *       such holes, each once.</li>
 * </ul>
 *
 * Eviction drops the entry that <em>arrived</em> first. A redelivered entry keeps its slot. Reading a whole
 * bank (deletions, queries) is a prefix scan of the user's keys: not on the feedback path.
 */
public final class MemoryBankStore {

  private static final StringSerializer KEYS = new StringSerializer();
  private static final Comparator<BankEntry> AGE_ORDER =
      Comparator.comparing(BankEntry::getTimestamp).thenComparing(BankEntry::getEntryId);

  private final KeyValueStore<String, StoredEntry> entries;
  private final KeyValueStore<String, BankSummary> summaries;
  private final KeyValueStore<String, String> order;

  public MemoryBankStore(KeyValueStore<String, StoredEntry> entries, KeyValueStore<String, BankSummary> summaries,
                         KeyValueStore<String, String> order) {
    this.entries = entries;
    this.summaries = summaries;
    this.order = order;
  }

  /** What one upsert changed: the encoded record to publish and the keys of entries evicted to stay within the cap. */
  public record Upserted(byte[] encodedChange, List<String> evictedKeys) {
  }

  /** What a deletion removed, and the entries that remain (oldest first). */
  public record Removed(List<BankEntry> removed, List<BankEntry> kept) {
  }

  /** Adds or (same entry id) replaces an entry, then evicts the oldest arrivals beyond {@code cap}. */
  public Upserted upsert(String user, BankEntry entry, int cap, long at) {
    String key = BankChanges.entryKey(user, entry.getEntryId());
    BankSummary s = Optional.ofNullable(summaries.get(user)).orElseGet(BankSummary::empty);
    StoredEntry existing = entries.get(key);
    int count = s.count();
    long oldest = s.oldestSeq();
    long next = s.nextSeq();
    long seq;
    if (existing != null) {
      seq = existing.seq();
    } else {
      seq = next++;
      count++;
      order.put(orderKey(user, seq), entry.getEntryId());
    }
    long revision = s.revision() + 1;
    byte[] change = BankChanges.SERDE.serialize(BankChanges.TOPIC_BASE, BankChanges.upsert(user, revision, at, entry));
    entries.put(key, new StoredEntry(seq, change));
    List<String> evicted = new ArrayList<>(1);
    while (count > cap && oldest < next) {
      String slot = orderKey(user, oldest++);
      String victim = order.get(slot);
      if (victim == null) {
        continue; // the entry of this slot was deleted
      }
      order.put(slot, null);
      String victimKey = BankChanges.entryKey(user, victim);
      entries.put(victimKey, null);
      evicted.add(victimKey);
      count--;
    }
    summaries.put(user, new BankSummary(count, revision, at, oldest, next));
    return new Upserted(change, evicted);
  }

  /** Removes every entry of the user matching {@code doomed}; the summary goes with the last entry. */
  public Removed remove(String user, Predicate<BankEntry> doomed, long at) {
    List<BankEntry> removed = new ArrayList<>();
    List<BankEntry> kept = new ArrayList<>();
    for (StoredEntry e : storedEntriesOf(entries, user)) {
      BankEntry entry = e.entry();
      if (doomed.test(entry)) {
        entries.put(BankChanges.entryKey(user, entry.getEntryId()), null);
        order.put(orderKey(user, e.seq()), null);
        removed.add(entry);
      } else {
        kept.add(entry);
      }
    }
    removed.sort(AGE_ORDER);
    kept.sort(AGE_ORDER);
    if (!removed.isEmpty()) {
      BankSummary s = summaries.get(user);
      if (kept.isEmpty() || s == null) {
        summaries.put(user, null);
      } else {
        summaries.put(user, new BankSummary(kept.size(), s.revision() + 1, at, s.oldestSeq(), s.nextSeq()));
      }
    }
    return new Removed(removed, kept);
  }

  /** The user's entries, oldest first (a prefix scan: not for the per-event path). */
  public List<BankEntry> entriesOf(String user) {
    return storedEntriesOf(entries, user).stream().map(StoredEntry::entry).sorted(AGE_ORDER).toList();
  }

  public Optional<MemoryBank> bankOf(String user) {
    return read(entries, summaries, user);
  }

  /** The user's bank assembled from the two stores (also for interactive queries); empty when it has no entry. */
  public static Optional<MemoryBank> read(ReadOnlyKeyValueStore<String, StoredEntry> entries,
                                          ReadOnlyKeyValueStore<String, BankSummary> summaries, String user) {
    BankSummary s = summaries.get(user);
    if (s == null) {
      return Optional.empty();
    }
    List<BankEntry> list = storedEntriesOf(entries, user).stream().map(StoredEntry::entry).toList();
    return list.isEmpty() ? Optional.empty()
        : Optional.of(MemoryBankUpdater.assemble(user, s.revision(), Instant.ofEpochMilli(s.updatedAtMs()), list));
  }

  private static List<StoredEntry> storedEntriesOf(ReadOnlyKeyValueStore<String, StoredEntry> entries, String user) {
    List<StoredEntry> out = new ArrayList<>();
    try (KeyValueIterator<String, StoredEntry> it = entries.prefixScan(user + BankChanges.SEP, KEYS)) {
      it.forEachRemaining(kv -> out.add(kv.value));
    }
    return out;
  }

  static String orderKey(String user, long seq) {
    return user + BankChanges.SEP + seq;
  }
}
