package io.marginal.inference.personalization;

import io.marginal.inference.kafka.TopicTail;
import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.topics.Topics;
import io.marginal.personalization.bank.BankChanges;
import io.marginal.personalization.bank.ReplicatedBanks;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's copy of every user's memory bank, read from the compacted memory-banks.v2 topic: one
 * record per bank entry (upsert or tombstone; a tombstone keyed by the bare user id erases the whole
 * bank), so applying a record is O(1) whatever the bank's size. A node that starts cold rebuilds the
 * copy by reading the topic from the beginning ({@link TopicTail}).
 *
 * <p>Why a map in memory rather than a GlobalKTable: a GlobalKTable keeps its copy in RocksDB on
 * disk, where a deleted entry survives in SST files until compaction (DESIGN.md §5). Here the only
 * copy on the node is this map; a tombstone drops the last reference as soon as it arrives.
 */
public final class MemoryBankReplica {

  private static final Logger LOG = LoggerFactory.getLogger(MemoryBankReplica.class);

  private final ReplicatedBanks banks = new ReplicatedBanks();

  /** Applies one record of the memory-banks topic. */
  public void apply(ConsumerRecord<byte[], byte[]> record) {
    if (record.key() == null) {
      throw new TopicTail.UnreadableRecordException("memory-banks record without a key (expected userId or userId\\0entryId)", null);
    }
    String key = new String(record.key(), StandardCharsets.UTF_8);
    BankEntryChange change;
    try {
      change = BankChanges.SERDE.deserialize(Topics.MEMORY_BANKS, record.value());
    } catch (RuntimeException e) {
      throw new TopicTail.UnreadableRecordException("memory-bank entry " + key.replace(BankChanges.SEP, '/')
          + " cannot be decoded: " + e.getMessage(), e);
    }
    String user = banks.apply(key, change);
    if (change == null && BankChanges.entryIdOf(key) == null) {
      LOG.info("memory bank of user {} erased on this node (tombstone at {}-{}@{})", user, record.topic(),
          record.partition(), record.offset());
    }
  }

  public Optional<MemoryBank> bankOf(String userId) {
    return banks.bankOf(userId);
  }

  public int users() {
    return banks.users();
  }
}
