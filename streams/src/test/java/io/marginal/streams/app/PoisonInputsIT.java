package io.marginal.streams.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.fault.PoisonRecords;
import io.marginal.schemas.fault.PoisonRecords.Poison;
import io.marginal.schemas.fault.SampleRecords;
import io.marginal.schemas.serde.AvroSerde;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.topology.TopologyFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * The poison corpus on every topic the streams app reads (interactions, feedback, deletions):
 * every record that cannot be decoded is dead-lettered exactly once with a reason, the good
 * deletion sent after them gets its receipt, no stream thread dies, and after a restart on the
 * same state nothing is dead-lettered a second time and the next good record is processed too.
 */
class PoisonInputsIT {

  @Test
  void everyUnreadableInputIsDeadLetteredOnceAndTheAppKeepsWorkingAcrossARestart() throws Exception {
    Path state = Files.createTempDirectory("poison-inputs-it");
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
      StreamsAppConfig config = StreamsAppConfig.defaults().withBootstrapServers(kafka.bootstrapServers())
          .withState("poison-inputs-it", state).withBank(TopologyFixture.SETTINGS).withHttpPort(0);
      Topics topics = config.topics();
      TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), topics);
      Map<String, Long> unreadable = new HashMap<>(); // "topic-partition@offset" of records that do not decode
      int sent = 0;
      try (KafkaProducer<String, byte[]> producer = AppTraffic.producer(kafka.bootstrapServers())) {
        sent += sendCorpus(producer, topics.name(Topics.INTERACTIONS), MarginalSerdes.INTERACTION, Interaction.class, unreadable);
        sent += sendCorpus(producer, topics.name(Topics.FEEDBACK), MarginalSerdes.FEEDBACK, Feedback.class, unreadable);
        sent += sendCorpus(producer, topics.name(Topics.DELETIONS), MarginalSerdes.DELETION_REQUEST, DeletionRequest.class, unreadable);

        try (MarginalStreamsApp app = MarginalStreamsApp.start(config)) {
          app.awaitRunning(Duration.ofSeconds(60));
          AppTraffic.deletion(producer, topics, "alice", "after-poison");
          AppTraffic.awaitReceipt(kafka.bootstrapServers(), topics, "after-poison");
          assertEquals(KafkaStreams.State.RUNNING, app.streams().state());
          assertEquals(1, app.streams().metadataForLocalThreads().size(), "no stream thread was replaced");
        }
        Map<String, Integer> letters = letterCounts(kafka.bootstrapServers(), topics);
        for (String at : unreadable.keySet()) {
          assertEquals(1, letters.getOrDefault(at, 0), at + " dead-lettered once");
        }
        System.out.printf("poison inputs: %d sent to 3 topics, %d unreadable, all dead-lettered once%n", sent, unreadable.size());

        try (MarginalStreamsApp again = MarginalStreamsApp.start(config)) {
          again.awaitRunning(Duration.ofSeconds(60));
          AppTraffic.deletion(producer, topics, "alice", "after-restart");
          AppTraffic.awaitReceipt(kafka.bootstrapServers(), topics, "after-restart");
        }
        assertEquals(letters, letterCounts(kafka.bootstrapServers(), topics), "nothing dead-lettered again after the restart");
      }
    }
  }

  private static <T extends org.apache.avro.specific.SpecificRecord> int sendCorpus(KafkaProducer<String, byte[]> producer,
      String topic, AvroSerde<T> serde, Class<T> type, Map<String, Long> unreadable) throws Exception {
    byte[] valid = serde.serialize(topic, SampleRecords.of(type));
    byte[] other = serde == MarginalSerdes.FEEDBACK ? MarginalSerdes.INTERACTION.serialize(topic, SampleRecords.of(Interaction.class))
        : MarginalSerdes.FEEDBACK.serialize(topic, SampleRecords.of(Feedback.class));
    List<Poison> corpus = PoisonRecords.corpus(valid, other, topic.hashCode());
    for (Poison p : corpus) {
      RecordMetadata at = producer.send(new ProducerRecord<>(topic, "mallory", p.bytes())).get();
      try {
        serde.deserialize(topic, p.bytes());
      } catch (RuntimeException e) {
        unreadable.put(at.topic() + "-" + at.partition() + "@" + at.offset(), at.offset());
      }
    }
    return corpus.size();
  }

  private static Map<String, Integer> letterCounts(String bootstrap, Topics topics) {
    Map<String, Integer> counts = new HashMap<>();
    Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
      List<TopicPartition> parts = consumer.partitionsFor(topics.name(Topics.DEAD_LETTERS)).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          DeadLetter letter = MarginalSerdes.DEAD_LETTER.deserialize("dlq", r.value());
          assertTrue(!letter.getReason().isBlank(), "a dead letter says why");
          counts.merge(letter.getSourceTopic() + "-" + letter.getPartition() + "@" + letter.getOffset(), 1, Integer::sum);
        }
      }
    }
    return counts;
  }
}
