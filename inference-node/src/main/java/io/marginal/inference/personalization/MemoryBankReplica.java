package io.marginal.inference.personalization;

import io.marginal.inference.kafka.TopicTail;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's copy of every user's memory bank, read from the compacted memory-banks topic and
 * kept current. A tombstone removes the user's bank from the map at once, so the data is
 * unreachable on this node as soon as the record arrives.
 *
 * <p>Why a map in memory rather than a GlobalKTable: a GlobalKTable keeps its copy in RocksDB on
 * disk, where a deleted bank survives in SST files until compaction (DESIGN.md §5). Here the only
 * copy on the node is this map; a deletion drops the last reference.
 */
public final class MemoryBankReplica {

  private static final Logger LOG = LoggerFactory.getLogger(MemoryBankReplica.class);

  private final ConcurrentMap<String, MemoryBank> banks = new ConcurrentHashMap<>();

  /** Applies one record of the memory-banks topic. */
  public void apply(ConsumerRecord<byte[], byte[]> record) {
    if (record.key() == null) {
      throw new TopicTail.UnreadableRecordException("memory-banks record without a key (expected the user id)", null);
    }
    String userId = new String(record.key(), StandardCharsets.UTF_8);
    if (record.value() == null) {
      if (banks.remove(userId) != null) {
        LOG.info("memory bank of user {} erased on this node (tombstone at {}-{}@{})", userId, record.topic(),
            record.partition(), record.offset());
      }
      return;
    }
    MemoryBank bank;
    try {
      bank = MarginalSerdes.MEMORY_BANK.deserialize(Topics.MEMORY_BANKS, record.value());
    } catch (RuntimeException e) {
      throw new TopicTail.UnreadableRecordException("memory bank of user " + userId + " cannot be decoded: " + e.getMessage(), e);
    }
    // Revisions only grow; a replayed older record must not resurrect entries that were deleted.
    banks.merge(userId, bank, (old, fresh) -> fresh.getRevision() >= old.getRevision() ? fresh : old);
  }

  public Optional<MemoryBank> bankOf(String userId) {
    return Optional.ofNullable(banks.get(userId));
  }

  public int users() {
    return banks.size();
  }
}
