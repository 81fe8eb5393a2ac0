package io.marginal.inference.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.deadletter.DeadLetterPublisher;
import io.marginal.schemas.fault.PoisonRecords;
import io.marginal.schemas.fault.PoisonRecords.Poison;
import io.marginal.schemas.fault.SampleRecords;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node's topic readers against the poison corpus: every malformed record is dead-lettered and
 * skipped, the good record after them is applied, and the reader stays alive. A reader that does
 * die says so, so that readiness can report it.
 */
class TopicTailIT {

  private static final Topics TOPICS = Topics.defaults();
  private static EmbeddedKafkaBroker kafka;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafkaBroker.startTemporary();
    TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  @Test
  void everyPoisonIsSkippedAndTheGoodRecordAfterThemIsApplied() throws Exception {
    String topic = TOPICS.name(Topics.MEMORY_BANKS);
    byte[] valid = MarginalSerdes.MEMORY_BANK.serialize(topic, SampleRecords.of(MemoryBank.class));
    List<Poison> corpus = PoisonRecords.corpus(valid, MarginalSerdes.FEEDBACK.serialize(topic,
        SampleRecords.of(io.marginal.schemas.Feedback.class)), 11);
    List<String> applied = new CopyOnWriteArrayList<>();
    List<String> unreadable = new CopyOnWriteArrayList<>();
    try (KafkaProducer<String, byte[]> producer = producer();
         DeadLetterPublisher letters = DeadLetterPublisher.create(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
             TOPICS.name(Topics.DEAD_LETTERS), "tail-it");
         TopicTail tail = new TopicTail(topic, Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), "tail-it",
             letters, record -> {
               MemoryBank bank;
               try {
                 bank = MarginalSerdes.MEMORY_BANK.deserialize(topic, record.value());
               } catch (RuntimeException e) {
                 unreadable.add(new String(record.key()));
                 throw new TopicTail.UnreadableRecordException(e.getMessage(), e);
               }
               applied.add(new String(record.key()));
             })) {
      for (Poison p : corpus) {
        producer.send(new ProducerRecord<>(topic, p.kind(), p.bytes()));
      }
      producer.send(new ProducerRecord<>(topic, "good", valid)).get();
      producer.flush();
      tail.start();

      assertTrue(tail.awaitCaughtUp(Duration.ofSeconds(60)), "the reader got through the corpus");
      assertTrue(applied.contains("good"), "the good record after " + corpus.size() + " poisons was applied");
      assertTrue(tail.failure().isEmpty(), "reader alive: " + tail.failure());
      // The fixed kinds (garbage, empty, header-only, truncated, wrong-schema, unknown fingerprint, near 1 MiB) and
      // at least the huge lengths that hit a length field were refused; none killed the reader.
      assertTrue(unreadable.size() >= 8, "refused " + unreadable);
      assertEquals(corpus.size() + 1, unreadable.size() + applied.size());
    }
    int lettersAfterFirstRun = lettersOf("tail-it");
    System.out.printf("topic tail: %d poison records + 1 good; %d dead-lettered, %d applied, reader alive%n", corpus.size(),
        unreadable.size(), applied.size());
    assertEquals(unreadable.size(), lettersAfterFirstRun, "each bad record dead-lettered once");

    // A restart replays the topic from the beginning: a publisher that remembers its earlier letters writes none again.
    List<String> replayed = new CopyOnWriteArrayList<>();
    Map<String, Object> client = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (DeadLetterPublisher letters = DeadLetterPublisher.create(client, TOPICS.name(Topics.DEAD_LETTERS), "tail-it")
             .rememberEarlierLetters(client, Duration.ofSeconds(30));
         TopicTail tail = new TopicTail(topic, client, "tail-it-2", letters, record -> {
           try {
             MarginalSerdes.MEMORY_BANK.deserialize(topic, record.value());
             replayed.add(new String(record.key()));
           } catch (RuntimeException e) {
             throw new TopicTail.UnreadableRecordException(e.getMessage(), e);
           }
         }).start()) {
      assertTrue(tail.awaitCaughtUp(Duration.ofSeconds(60)));
      assertEquals(new java.util.HashSet<>(applied), new java.util.HashSet<>(replayed));
    }
    assertEquals(lettersAfterFirstRun, lettersOf("tail-it"), "no bad record dead-lettered a second time after the restart");
  }

  private static int lettersOf(String application) {
    Map<String, Object> config = Map.of(
        org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        org.apache.kafka.clients.consumer.ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
        org.apache.kafka.common.serialization.ByteArrayDeserializer.class,
        org.apache.kafka.clients.consumer.ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
        org.apache.kafka.common.serialization.ByteArrayDeserializer.class);
    int n = 0;
    try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(config)) {
      var parts = consumer.partitionsFor(TOPICS.name(Topics.DEAD_LETTERS)).stream()
          .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      var end = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (var r : consumer.poll(Duration.ofMillis(200))) {
          if (MarginalSerdes.DEAD_LETTER.deserialize("dlq", r.value()).getApplication().equals(application)) {
            n++;
          }
        }
      }
    }
    return n;
  }

  @Test
  void aReaderThatDiesReportsWhy() throws Exception {
    String topic = TOPICS.name(Topics.DELETION_RECEIPTS);
    try (KafkaProducer<String, byte[]> producer = producer();
         DeadLetterPublisher letters = DeadLetterPublisher.create(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
             TOPICS.name(Topics.DEAD_LETTERS), "tail-it");
         TopicTail tail = new TopicTail(topic, Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), "tail-die",
             letters, record -> {
               throw new StackOverflowError("handler recursed");
             })) {
      producer.send(new ProducerRecord<>(topic, "k", new byte[] {1})).get();
      tail.start();
      await("the tail reports its failure").atMost(Duration.ofSeconds(30)).until(() -> tail.failure().isPresent());
      assertTrue(tail.failure().orElse("").contains("handler recursed"), "failure: " + tail.failure());
    }
  }

  private static KafkaProducer<String, byte[]> producer() {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 << 20,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }
}
