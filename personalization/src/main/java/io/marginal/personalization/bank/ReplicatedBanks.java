package io.marginal.personalization.bank;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.MemoryBank;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A replica of every user's memory bank built from memory-banks.v2 (see {@link BankChanges}): applying
 * a record costs O(1); the {@link MemoryBank} view (entries in age order, transition aggregates) is
 * assembled when it is first read after a change and then cached, so readers pay the bank's size once
 * per change, never the writer. A replica that starts cold rebuilds by reading the compacted topic from
 * the beginning. Thread-safe: one thread applies, any thread reads.
 *
 * <p>Only this map holds the data: a tombstone drops the last reference at once (no copy on disk).
 */
public final class ReplicatedBanks {

  private final ConcurrentHashMap<String, UserBank> users = new ConcurrentHashMap<>();

  /** One user's entries as this replica holds them. Guarded by its own monitor. */
  private static final class UserBank {
    final Map<String, BankEntry> entries = new HashMap<>();
    long revision;
    Instant updatedAt = Instant.EPOCH;
    MemoryBank view; // null: changed since last read
  }

  /**
   * Applies one record of memory-banks.v2.
   *
   * @param key    the record key ({@code user U+0000 entryId}, or a bare user id for a user-level tombstone)
   * @param change the decoded value, or null for a tombstone
   * @return the user whose bank changed
   */
  public String apply(String key, BankEntryChange change) {
    String user = BankChanges.userOf(key);
    String entryId = BankChanges.entryIdOf(key);
    if (change == null) {
      if (entryId == null) {
        users.remove(user);
      } else {
        users.computeIfPresent(user, (u, bank) -> {
          synchronized (bank) {
            if (bank.entries.remove(entryId) != null) {
              bank.view = null;
            }
            return bank.entries.isEmpty() ? null : bank;
          }
        });
      }
      return user;
    }
    users.compute(user, (u, bank) -> {
      UserBank b = bank == null ? new UserBank() : bank;
      synchronized (b) {
        b.entries.put(change.getEntry().getEntryId(), change.getEntry());
        if (change.getRevision() >= b.revision) {
          b.revision = change.getRevision();
          b.updatedAt = change.getUpdatedAt();
        }
        b.view = null;
      }
      return b;
    });
    return user;
  }

  /** The user's bank, empty when the replica holds no entry of the user. */
  public Optional<MemoryBank> bankOf(String userId) {
    UserBank bank = users.get(userId);
    if (bank == null) {
      return Optional.empty();
    }
    synchronized (bank) {
      if (bank.entries.isEmpty()) {
        return Optional.empty();
      }
      if (bank.view == null) {
        bank.view = MemoryBankUpdater.assemble(userId, bank.revision, bank.updatedAt, new ArrayList<>(bank.entries.values()));
      }
      return Optional.of(bank.view);
    }
  }

  /** Every user's bank, sorted by user id (tests and tools; assembles each). */
  public Map<String, MemoryBank> banks() {
    Map<String, MemoryBank> out = new TreeMap<>();
    for (String user : List.copyOf(users.keySet())) {
      bankOf(user).ifPresent(b -> out.put(user, b));
    }
    return out;
  }

  public int users() {
    return users.size();
  }

  /** Number of entries held for the user (no assembly). */
  public int entryCount(String userId) {
    UserBank bank = users.get(userId);
    if (bank == null) {
      return 0;
    }
    synchronized (bank) {
      return bank.entries.size();
    }
  }
}
