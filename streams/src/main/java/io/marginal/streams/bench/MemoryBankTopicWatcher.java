package io.marginal.streams.bench;

import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.serde.MarginalSerdes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows the memory-banks topic with read_committed (what a replica sees) on a background thread:
 * the latest bank per user, how many records each user got, and when each user's latest tombstone
 * arrived (System.nanoTime). Used by the benchmark and the restart test.
 */
public final class MemoryBankTopicWatcher implements AutoCloseable {

  private final Map<String, Optional<MemoryBank>> latest = new ConcurrentHashMap<>();
  private final Map<String, Integer> counts = new ConcurrentHashMap<>();
  private final Map<String, Long> tombstonedAtNanos = new ConcurrentHashMap<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;

  public MemoryBankTopicWatcher(String bootstrapServers, String topic) {
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
            counts.merge(r.key(), 1, Integer::sum);
            if (r.value() == null) {
              latest.put(r.key(), Optional.empty());
              tombstonedAtNanos.put(r.key(), now);
            } else {
              latest.put(r.key(), Optional.of(MarginalSerdes.MEMORY_BANK.deserialize(topic, r.value())));
            }
          });
        }
      }
    }, "memory-bank-watcher");
    thread.setDaemon(true);
    thread.start();
  }

  /** Latest bank per user; an empty Optional is a tombstone. */
  public Map<String, Optional<MemoryBank>> latest() {
    return Map.copyOf(latest);
  }

  public Map<String, Integer> recordCounts() {
    return Map.copyOf(counts);
  }

  public Long tombstonedAtNanos(String user) {
    return tombstonedAtNanos.get(user);
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
