package io.marginal.streams.bench;

import io.marginal.schemas.BankEntryChange;
import io.marginal.schemas.MemoryBank;
import io.marginal.streams.bank.BankChanges;
import io.marginal.streams.bank.ReplicatedBanks;
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
  private final boolean recordArrivals;
  private final Thread thread;

  public MemoryBankTopicWatcher(String bootstrapServers, String topic) {
    this(bootstrapServers, topic, false);
  }

  /** With {@code recordArrivals}, remembers when each entry id's first upsert arrived (for latency figures). */
  public MemoryBankTopicWatcher(String bootstrapServers, String topic, boolean recordArrivals) {
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
            BankEntryChange change = BankChanges.SERDE.deserialize(topic, r.value());
            String user = replica.apply(r.key(), change);
            counts.merge(user, 1, Integer::sum);
            if (change == null && BankChanges.entryIdOf(r.key()) == null) {
              tombstonedAtNanos.put(user, now);
            } else if (change != null) {
              upserts.incrementAndGet();
              if (this.recordArrivals) {
                upsertedAtNanos.putIfAbsent(change.getEntry().getEntryId(), now);
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
    Map<String, Optional<MemoryBank>> out = new HashMap<>();
    for (String user : counts.keySet()) {
      out.put(user, replica.bankOf(user));
    }
    return out;
  }

  public ReplicatedBanks replica() {
    return replica;
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
