package io.marginal.streams.deadletter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.TestRecords;
import io.marginal.schemas.deadletter.DeadLetters;
import io.marginal.schemas.fault.PoisonRecords;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Malformed records on an input topic (garbage, a huge declared length, one just under 1 MiB) go to
 * the dead-letter topic with the reason; the good record after them still flows.
 */
class DeadLetterRoutingIT {

  private static EmbeddedKafkaBroker kafka;
  private static final Topics TOPICS = Topics.defaults();

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
  void malformedFeedbackIsDeadLetteredAndTheNextRecordStillFlows() throws Exception {
    String feedbackTopic = TOPICS.name(Topics.FEEDBACK);
    String copyTopic = TOPICS.name(Topics.INTERACTIONS); // any other topic of ours as the sink
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(feedbackTopic, Consumed.with(Serdes.String(), MarginalSerdes.FEEDBACK))
        .mapValues(f -> f.getInteractionId().getBytes(StandardCharsets.UTF_8))
        .to(copyTopic, Produced.with(Serdes.String(), Serdes.ByteArray()));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dlq-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("streams").toString());
    props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);

    try (KafkaStreams streams = new KafkaStreams(builder.build(), props);
         KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
             ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
             ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
             ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      streams.start();
      producer.send(new ProducerRecord<>(feedbackTopic, "mallory", "definitely not avro".getBytes(StandardCharsets.UTF_8))).get();
      byte[] valid = MarginalSerdes.FEEDBACK.serialize(feedbackTopic, TestRecords.feedback("mallory", "i-0"));
      // A record declaring 2^31 items (used to kill the stream thread with OutOfMemoryError), and one just under
      // the broker's 1 MiB limit (its dead letter used not to fit, and the handler stopped the app for good).
      byte[] hugeLength = PoisonRecords.hugeDeclaredLengths(valid).get(0).bytes();
      byte[] nearMax = PoisonRecords.corpus(valid, valid, 7).stream().filter(p -> p.kind().equals("near-1MiB")).findFirst().orElseThrow().bytes();
      producer.send(new ProducerRecord<>(feedbackTopic, "mallory", hugeLength)).get();
      producer.send(new ProducerRecord<>(feedbackTopic, "mallory", nearMax)).get();
      producer.send(new ProducerRecord<>(feedbackTopic, "alice",
          MarginalSerdes.FEEDBACK.serialize(feedbackTopic, TestRecords.feedback("alice", "i-1")))).get();

      List<ConsumerRecord<String, byte[]>> letters = TestRecords.read(kafka.bootstrapServers(), TOPICS.name(Topics.DEAD_LETTERS), 3, Duration.ofSeconds(60));
      List<ConsumerRecord<String, byte[]>> copied = TestRecords.read(kafka.bootstrapServers(), copyTopic, 1, Duration.ofSeconds(60));

      assertEquals(3, letters.size());
      assertEquals("mallory", letters.get(0).key());
      DeadLetter letter = MarginalSerdes.DEAD_LETTER.deserialize("dlq", letters.get(0).value());
      assertEquals(feedbackTopic, letter.getSourceTopic());
      assertEquals("dlq-test", letter.getApplication());
      assertTrue(letter.getReason().contains("not a readable Feedback record"), letter.getReason());
      byte[] original = new byte[letter.getValue().remaining()];
      letter.getValue().get(original);
      assertEquals("definitely not avro", new String(original, StandardCharsets.UTF_8));
      assertEquals(19, letter.getValueSize());
      assertFalse(letter.getValueTruncated());
      assertEquals(feedbackTopic, header(letters.get(0), DeadLetters.HEADER_TOPIC));
      assertEquals(Long.toString(letter.getOffset()), header(letters.get(0), DeadLetters.HEADER_OFFSET));
      assertEquals("dlq-test", header(letters.get(0), DeadLetters.HEADER_APPLICATION));
      assertEquals(letter.getErrorClass(), header(letters.get(0), DeadLetters.HEADER_EXCEPTION));
      assertEquals(letter.getReason(), header(letters.get(0), DeadLetters.HEADER_MESSAGE));

      DeadLetter huge = MarginalSerdes.DEAD_LETTER.deserialize("dlq", letters.get(1).value());
      assertTrue(huge.getReason().contains("SystemLimitException"), huge.getReason());
      assertEquals(hugeLength.length, huge.getValueSize());

      DeadLetter big = MarginalSerdes.DEAD_LETTER.deserialize("dlq", letters.get(2).value());
      assertTrue(big.getValueTruncated());
      assertEquals(nearMax.length, big.getValueSize());
      assertEquals(DeadLetters.KEPT_PREFIX_BYTES, big.getValue().remaining());
      assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(nearMax)), big.getValueSha256());

      assertEquals(1, copied.size());
      assertEquals("i-1", new String(copied.get(0).value(), StandardCharsets.UTF_8));
    }
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    org.apache.kafka.common.header.Header h = record.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
