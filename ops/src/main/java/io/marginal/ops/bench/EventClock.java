package io.marginal.ops.bench;

import io.marginal.schemas.ActivationState;
import io.marginal.schemas.AdapterActivation;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows {@code deletion-receipts} and {@code adapter-activations} from their ends and notes, on
 * this process's monotonic clock, when each receipt status of each deletion and each node's
 * activation of each adapter version was first seen.
 */
final class EventClock implements AutoCloseable {

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final String receiptsTopic;
  private final Map<String, Long> receipts = new ConcurrentHashMap<>();
  private final Map<String, Long> activations = new ConcurrentHashMap<>();
  private final Map<String, DeletionReceipt> receiptBodies = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile boolean running = true;

  EventClock(String bootstrapServers, Topics topics) {
    this.receiptsTopic = topics.name(Topics.DELETION_RECEIPTS);
    this.consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.GROUP_ID_CONFIG, "sla-clock-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
    consumer.subscribe(List.of(receiptsTopic, topics.name(Topics.ADAPTER_ACTIVATIONS)));
    while (consumer.assignment().isEmpty()) {
      consumer.poll(Duration.ofMillis(100));
    }
    consumer.seekToEnd(consumer.assignment());
    consumer.assignment().forEach(consumer::position);
    thread = new Thread(this::follow, "sla-event-clock");
    thread.setDaemon(true);
    thread.start();
  }

  private void follow() {
    try {
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
          long now = System.nanoTime();
          if (record.value() == null) {
            continue;
          }
          if (record.topic().equals(receiptsTopic)) {
            DeletionReceipt r = MarginalSerdes.DELETION_RECEIPT.deserialize(record.topic(), record.value());
            receipts.putIfAbsent(r.getDeletionId() + "/" + r.getStatus(), now);
            receiptBodies.putIfAbsent(r.getDeletionId() + "/" + r.getStatus(), r);
          } else {
            AdapterActivation a = MarginalSerdes.ADAPTER_ACTIVATION.deserialize(record.topic(), record.value());
            if (a.getState() == ActivationState.ACTIVE) {
              activations.putIfAbsent(a.getAdapterId() + "@" + a.getVersion() + "/" + a.getNodeId(), now);
            }
          }
        }
      }
    } catch (WakeupException stopping) {
      // closing
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  /** When the first receipt of {@code deletionId} with one of {@code statuses} was seen, waiting up to {@code timeout}. */
  OptionalLong awaitReceipt(String deletionId, Set<ReceiptStatus> statuses, Duration timeout) throws InterruptedException {
    return await(() -> statuses.stream().map(s -> receipts.get(deletionId + "/" + s)).filter(t -> t != null)
        .mapToLong(Long::longValue).min(), timeout);
  }

  /** The first receipt seen for {@code deletionId} with {@code status}, or null. */
  DeletionReceipt receipt(String deletionId, ReceiptStatus status) {
    return receiptBodies.get(deletionId + "/" + status);
  }

  /** When the last of {@code nodeIds} acknowledged {@code adapterVersion} (id@version) as active. */
  OptionalLong awaitActiveEverywhere(String adapterVersion, List<String> nodeIds, Duration timeout) throws InterruptedException {
    return await(() -> {
      long latest = Long.MIN_VALUE;
      for (String node : nodeIds) {
        Long t = activations.get(adapterVersion + "/" + node);
        if (t == null) {
          return OptionalLong.empty();
        }
        latest = Math.max(latest, t);
      }
      return OptionalLong.of(latest);
    }, timeout);
  }

  private static OptionalLong await(java.util.function.Supplier<OptionalLong> probe, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      OptionalLong seen = probe.get();
      if (seen.isPresent() || System.nanoTime() > deadline) {
        return seen;
      }
      Thread.sleep(2);
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
  }
}
