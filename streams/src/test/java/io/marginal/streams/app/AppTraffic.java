package io.marginal.streams.app;

import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.topology.Events;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** What the app-level fault tests do through Kafka: send a deletion, wait for its receipt, write raw bytes. */
final class AppTraffic {

  private AppTraffic() {
  }

  static void deletion(KafkaProducer<String, byte[]> producer, Topics topics, String user, String id) throws Exception {
    producer.send(new ProducerRecord<>(topics.name(Topics.DELETIONS), user, MarginalSerdes.DELETION_REQUEST.serialize("",
        Events.deletion(user, id, DeletionScope.ALL_USER_DATA, List.of(), null, System.currentTimeMillis())))).get();
  }

  static DeletionReceipt awaitReceipt(String bootstrap, Topics topics, String deletionId) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "receipts-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    Set<String> seen = new TreeSet<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topics.name(Topics.DELETION_RECEIPTS)));
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          DeletionReceipt receipt = MarginalSerdes.DELETION_RECEIPT.deserialize("", r.value());
          seen.add(receipt.getDeletionId());
          if (receipt.getDeletionId().equals(deletionId)) {
            return receipt;
          }
        }
      }
    }
    throw new AssertionError("no receipt for " + deletionId + " within 90 s; saw " + seen);
  }

  /** An idempotent acks=all producer of raw bytes, with room for the near-1 MiB poison records. */
  static KafkaProducer<String, byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 << 20,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }
}
