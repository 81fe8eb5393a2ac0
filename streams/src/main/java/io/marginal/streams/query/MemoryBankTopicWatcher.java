package io.marginal.streams.query;

import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.bank.BankChanges;
import io.marginal.personalization.bank.ReplicatedBanks;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows memory-banks.v2 with read_committed on a background thread and keeps a replica of every
 * bank, as an inference node does ({@link ReplicatedBanks}): how many records each user got, when each
 * entry's upsert and each user's whole-bank tombstone arrived (System.nanoTime), how many upserts in
 * all. Used by the benchmark and the integration tests.
 */
public final class MemoryBankTopicWatcher implements AutoCloseable {

  private final ReplicatedBanks replica = new ReplicatedBanks();
  private final Map<String, Integer> counts = new ConcurrentHashMap<>();
  private final Map<String, Long> tombstonedAtNanos = new ConcurrentHashMap<>();
  private final Map<String, Long> upsertedAtNanos = new ConcurrentHashMap<>();
  private final AtomicLong upserts = new AtomicLong();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Map<String, Integer> liveEntries = new ConcurrentHashMap<>();
  private final boolean decode;
  private final boolean recordArrivals;
  private final Thread thread;

  /** A watcher that keeps a full replica. */
  public MemoryBankTopicWatcher(String bootstrapServers, String topic) {
    this(bootstrapServers, topic, true, false);
  }

  /**
   * With {@code decode} false the watcher reads keys only (what changed, not the entries), so that a
   * benchmark's observer costs little CPU; {@link #latest()} and {@link #replica()} are then unavailable.
   * With {@code recordArrivals}, it remembers when each entry id's first upsert arrived (latency figures).
   */
  public MemoryBankTopicWatcher(String bootstrapServers, String topic, boolean decode, boolean recordArrivals) {
    this.decode = decode;
    this.recordArrivals = recordArrivals;
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.GROUP_ID_CONFIG, "bank-watcher-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    thread = new Thread(() -> {
      try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
        consumer.subscribe(List.of(topic));
        while (running.get()) {
          consumer.poll(Duration.ofMillis(20)).forEach(r -> {
            long now = System.nanoTime();
            String user = BankChanges.userOf(r.key());
            String entryId = BankChanges.entryIdOf(r.key());
            if (this.decode) {
              BankEntryChange change = BankChanges.SERDE.deserialize(topic, r.value());
              replica.apply(r.key(), change);
            }
            counts.merge(user, 1, Integer::sum);
            if (r.value() == null && entryId == null) {
              tombstonedAtNanos.put(user, now);
              liveEntries.remove(user);
            } else if (r.value() == null) {
              liveEntries.computeIfPresent(user, (u, n) -> n > 1 ? n - 1 : null);
            } else {
              upserts.incrementAndGet();
              liveEntries.merge(user, 1, Integer::sum);
              if (this.recordArrivals) {
                upsertedAtNanos.putIfAbsent(entryId, now);
              }
            }
          });
        }
      }
    }, "memory-bank-watcher");
    thread.setDaemon(true);
    thread.start();
  }

  /** Every user seen so far and their bank as the replica holds it; empty when the user has no entry left. */
  public Map<String, Optional<MemoryBank>> latest() {
    requireReplica();
    Map<String, Optional<MemoryBank>> out = new HashMap<>();
    for (String user : counts.keySet()) {
      out.put(user, replica.bankOf(user));
    }
    return out;
  }

  public ReplicatedBanks replica() {
    requireReplica();
    return replica;
  }

  /** Entries per user as upserts minus tombstones counted so far (a redelivered entry counts twice). */
  public Map<String, Integer> liveEntryCounts() {
    return Map.copyOf(liveEntries);
  }

  private void requireReplica() {
    if (!decode) {
      throw new IllegalStateException("this watcher reads keys only; construct it with decode=true to get banks");
    }
  }

  /** Records (upserts and tombstones) per user. */
  public Map<String, Integer> recordCounts() {
    return Map.copyOf(counts);
  }

  /** Upserts seen in all. */
  public long upserts() {
    return upserts.get();
  }

  /** When the user's last whole-bank tombstone arrived, or null. */
  public Long tombstonedAtNanos(String user) {
    return tombstonedAtNanos.get(user);
  }

  /** When the first upsert of this entry (feedback) id arrived, or null (only with recordArrivals). */
  public Long upsertedAtNanos(String entryId) {
    return upsertedAtNanos.get(entryId);
  }

  /** Polls {@code condition} every 10 ms until true; false if {@code timeout} passed first. */
  public static boolean await(BooleanSupplier condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    running.set(false);
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
