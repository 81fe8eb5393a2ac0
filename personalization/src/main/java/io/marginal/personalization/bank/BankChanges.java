package io.marginal.personalization.bank;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.serde.AvroSerde;
import java.time.Instant;

/**
 * The wire format of memory-banks.v2, shared by the streams app (writer) and every replica (reader):
 * one compacted record per bank entry, keyed {@code userId U+0000 entryId}. An upsert carries the entry
 * and the bank's revision after it; a tombstone on an entry key erases that entry; a tombstone on the
 * bare user id erases every entry of the user on a replica (the streams app also tombstones each entry
 * key, which is what compaction needs to drop the bytes from the log).
 *
 * <p>Why per entry: a whole-bank record made every feedback event decode and re-encode the user's bank
 * (twice: changelog and topic), so the cost of an event grew with the bank (DESIGN.md §6).
 */
public final class BankChanges {

  public static final char SEP = '\u0000';
  /** The base name serdes are told (the value's encoding does not depend on it). */
  public static final String TOPIC_BASE = io.marginal.schemas.topics.Topics.MEMORY_BANKS;
  public static final AvroSerde<BankEntryChange> SERDE = new AvroSerde<>(BankEntryChange.class);

  private BankChanges() {
  }

  public static String entryKey(String userId, String entryId) {
    return userId + SEP + entryId;
  }

  /** The user a memory-banks.v2 key belongs to (the whole key for a user-level tombstone). */
  public static String userOf(String key) {
    int sep = key.indexOf(SEP);
    return sep < 0 ? key : key.substring(0, sep);
  }

  /** The entry id of an entry key, or null for a bare user key. */
  public static String entryIdOf(String key) {
    int sep = key.indexOf(SEP);
    return sep < 0 ? null : key.substring(sep + 1);
  }

  public static BankEntryChange upsert(String userId, long revision, long updatedAtMs, BankEntry entry) {
    return BankEntryChange.newBuilder().setUserId(userId).setRevision(revision)
        .setUpdatedAt(Instant.ofEpochMilli(updatedAtMs)).setEntry(entry).build();
  }
}
