package io.marginal.schemas.deadletter;

import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.serde.MarginalSerdes;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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

  public void publish(ConsumerRecord<byte[], byte[]> record, String reason, Throwable error) {
    publish(record.topic(), record.partition(), record.offset(), record.key(), record.value(), reason, error);
  }

  public void publish(String sourceTopic, int partition, long offset, byte[] key, byte[] value, String reason, Throwable error) {
    DeadLetter letter = DeadLetters.letter(sourceTopic, partition, offset, application, reason,
        error == null ? null : error.getClass().getName(), key, value, java.time.Instant.now());
    byte[] bytes = MarginalSerdes.DEAD_LETTER.serialize(topic, letter);
    try {
      producer.send(new ProducerRecord<>(topic, DeadLetters.boundedKey(key), bytes)).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while dead-lettering " + sourceTopic + "-" + partition + "@" + offset, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot dead-letter " + sourceTopic + "-" + partition + "@" + offset
          + " to " + topic + ": " + e.getMessage(), e);
    }
    LOG.warn("dead-lettered {}-{}@{} to {}: {}", sourceTopic, partition, offset, topic, reason);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
