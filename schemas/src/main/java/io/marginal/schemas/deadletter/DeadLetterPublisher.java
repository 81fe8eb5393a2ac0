package io.marginal.schemas.deadletter;

import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.serde.MarginalSerdes;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes records that cannot be read or processed to the dead-letter topic, with the reason, the
 * original bytes and where they came from. The send is synchronous: the caller only skips a record
 * once it is safely stored, so nothing is lost.
 */
public final class DeadLetterPublisher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterPublisher.class);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

  private final Producer<byte[], byte[]> producer;
  private final String topic;
  private final String application;
  /** Source coordinates ("topic-partition@offset") this application has dead-lettered. */
  private final Set<String> written = ConcurrentHashMap.newKeySet();

  public DeadLetterPublisher(Producer<byte[], byte[]> producer, String topic, String application) {
    this.producer = producer;
    this.topic = topic;
    this.application = application;
  }

  /** A publisher with its own idempotent producer; {@code clientConfig} carries bootstrap and security settings. */
  public static DeadLetterPublisher create(Map<String, Object> clientConfig, String topic, String application) {
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, application + "-dead-letters");
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new DeadLetterPublisher(new KafkaProducer<>(config), topic, application);
  }

  /**
   * Reads the dead-letter topic once for the letters this application wrote before (up to its end
   * now), so that {@link #publishOnce} does not write them again. For readers that replay their input
   * from the beginning at every start, as a node's topic replicas do: without it, each restart
   * dead-lettered the same bad record once more.
   */
  public DeadLetterPublisher rememberEarlierLetters(Map<String, Object> clientConfig, Duration timeout) {
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          try {
            DeadLetter letter = MarginalSerdes.DEAD_LETTER.deserialize(topic, r.value());
            if (letter != null && application.equals(letter.getApplication())) {
              written.add(coordinates(letter.getSourceTopic(), letter.getPartition(), letter.getOffset()));
            }
          } catch (RuntimeException unreadable) {
            // not ours to judge here
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("could not read {} for earlier dead letters of {} ({}); a replayed bad record may be dead-lettered again",
          topic, application, e.toString());
    }
    LOG.info("{} had dead-lettered {} records before this start", application, written.size());
    return this;
  }

  /** Like {@link #publish(ConsumerRecord, String, Throwable)}, unless this application already dead-lettered that record; returns whether it wrote. */
  public boolean publishOnce(ConsumerRecord<byte[], byte[]> record, String reason, Throwable error) {
    String at = coordinates(record.topic(), record.partition(), record.offset());
    if (written.contains(at)) {
      LOG.debug("{} was dead-lettered before; not again", at);
      return false;
    }
    publish(record, reason, error);
    return true;
  }

  private static String coordinates(String topic, int partition, long offset) {
    return topic + "-" + partition + "@" + offset;
  }

  public void publish(ConsumerRecord<byte[], byte[]> record, String reason, Throwable error) {
    publish(record.topic(), record.partition(), record.offset(), record.key(), record.value(), reason, error);
  }

  public void publish(String sourceTopic, int partition, long offset, byte[] key, byte[] value, String reason, Throwable error) {
    DeadLetter letter = DeadLetters.letter(sourceTopic, partition, offset, application, reason,
        error == null ? null : error.getClass().getName(), key, value, java.time.Instant.now());
    byte[] bytes = MarginalSerdes.DEAD_LETTER.serialize(topic, letter);
    try {
      producer.send(new ProducerRecord<>(topic, null, DeadLetters.boundedKey(key), bytes, DeadLetters.headers(letter))).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while dead-lettering " + sourceTopic + "-" + partition + "@" + offset, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot dead-letter " + sourceTopic + "-" + partition + "@" + offset
          + " to " + topic + ": " + e.getMessage(), e);
    }
    written.add(coordinates(sourceTopic, partition, offset));
    LOG.warn("dead-lettered {}-{}@{} to {}: {}", sourceTopic, partition, offset, topic, reason);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
