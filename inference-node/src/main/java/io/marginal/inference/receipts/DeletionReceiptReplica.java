package io.marginal.inference.receipts;

import io.marginal.inference.kafka.TopicTail;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The last deletion receipts of each user, read from the deletion-receipts topic, so that a user
 * (and the console) can watch a deletion go from accepted to erased to unlearned.
 *
 * <p>Receipts carry ids, stores and timestamps only — never user text — so keeping them in memory
 * adds no copy of user data. A later receipt for the same deletion (PENDING_UNLEARNING, then
 * UNLEARNED) replaces the earlier one: a user wants the current state of each deletion; the full
 * trail stays on the topic. At most {@code perUser} deletions are kept per user, oldest dropped.
 */
public final class DeletionReceiptReplica {

  private final int perUser;
  private final ConcurrentMap<String, Deque<DeletionReceipt>> receipts = new ConcurrentHashMap<>();

  public DeletionReceiptReplica(int perUser) {
    if (perUser < 1) {
      throw new IllegalArgumentException("perUser must be at least 1, got " + perUser);
    }
    this.perUser = perUser;
  }

  /** Applies one record of the deletion-receipts topic (key: user id; a tombstone drops the user's receipts). */
  public void apply(ConsumerRecord<byte[], byte[]> record) {
    if (record.key() == null) {
      throw new TopicTail.UnreadableRecordException("deletion receipt without a key (expected the user id)", null);
    }
    String userId = new String(record.key(), StandardCharsets.UTF_8);
    if (record.value() == null) {
      receipts.remove(userId);
      return;
    }
    DeletionReceipt receipt;
    try {
      receipt = MarginalSerdes.DELETION_RECEIPT.deserialize(Topics.DELETION_RECEIPTS, record.value());
    } catch (RuntimeException e) {
      throw new TopicTail.UnreadableRecordException("deletion receipt of user " + userId + " cannot be decoded: "
          + e.getMessage(), e);
    }
    add(userId, receipt);
  }

  void add(String userId, DeletionReceipt receipt) {
    receipts.compute(userId, (user, old) -> {
      Deque<DeletionReceipt> list = old == null ? new ArrayDeque<>() : old;
      list.removeIf(r -> r.getDeletionId().equals(receipt.getDeletionId()));
      list.addLast(receipt);
      while (list.size() > perUser) {
        list.removeFirst();
      }
      return list;
    });
  }

  /** The user's receipts, newest first. */
  public List<DeletionReceipt> receiptsOf(String userId) {
    List<DeletionReceipt> out = new ArrayList<>();
    receipts.computeIfPresent(userId, (user, list) -> {
      list.descendingIterator().forEachRemaining(out::add);
      return list;
    });
    return out;
  }

  public int users() {
    return receipts.size();
  }
}
