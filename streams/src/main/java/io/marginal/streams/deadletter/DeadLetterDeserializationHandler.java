package io.marginal.streams.deadletter;

import io.marginal.schemas.deadletter.DeadLetterPublisher;
import io.marginal.schemas.topics.Topics;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared Kafka Streams deserialization handler: a record that cannot be decoded goes to the
 * dead-letter topic with the reason, and processing continues. If the dead letter cannot be
 * stored, processing stops (FAIL) rather than drop the record.
 *
 * <p>Configure with {@code default.deserialization.exception.handler} (or
 * {@code deserialization.exception.handler}) = this class; it reads {@link #DEAD_LETTER_TOPIC_CONFIG}
 * (default: the default-prefixed dead-letter topic) and the client settings from the streams config.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {

  public static final String DEAD_LETTER_TOPIC_CONFIG = "marginal.dead.letter.topic";
  /** Who owns the shared publisher (one Kafka Streams client); defaults to the application id. */
  public static final String OWNER_CONFIG = "marginal.dead.letter.owner";

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);
  /**
   * One publisher per application, shared by its stream threads: Kafka Streams gives a
   * deserialization handler no close hook, so the app closes it with {@link #closePublisher}
   * (a producer per handler used to outlive the app and retry a stopped broker for minutes).
   */
  private static final Map<String, DeadLetterPublisher> PUBLISHERS = new java.util.concurrent.ConcurrentHashMap<>();

  private DeadLetterPublisher publisher;

  @Override
  public void configure(Map<String, ?> configs) {
    Map<String, Object> client = new HashMap<>();
    for (Map.Entry<String, ?> e : configs.entrySet()) {
      String key = e.getKey();
      if (key.equals(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) || key.startsWith("security.")
          || key.startsWith("sasl.") || key.startsWith("ssl.")) {
        client.put(key, e.getValue());
      }
    }
    Object topic = configs.get(DEAD_LETTER_TOPIC_CONFIG);
    String deadLetterTopic = topic == null ? Topics.defaults().name(Topics.DEAD_LETTERS) : topic.toString();
    Object app = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
    String application = app == null ? "streams" : app.toString();
    Object owner = configs.get(OWNER_CONFIG);
    publisher = PUBLISHERS.computeIfAbsent((owner == null ? application : owner.toString()) + "\u0000" + deadLetterTopic,
        k -> DeadLetterPublisher.create(client, deadLetterTopic, application));
  }

  /** Closes the dead-letter producer(s) of {@code owner} ({@link #OWNER_CONFIG}); call after its Kafka Streams client closed. */
  public static void closePublisher(String owner) {
    PUBLISHERS.entrySet().removeIf(e -> {
      if (e.getKey().startsWith(owner + "\u0000")) {
        e.getValue().close();
        return true;
      }
      return false;
    });
  }

  @Override
  public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    try {
      publisher.publish(record, exception.getMessage(), exception);
      return DeserializationHandlerResponse.CONTINUE;
    } catch (RuntimeException e) {
      LOG.error("cannot dead-letter {}-{}@{}; stopping instead of dropping it", record.topic(), record.partition(), record.offset(), e);
      return DeserializationHandlerResponse.FAIL;
    }
  }
}
