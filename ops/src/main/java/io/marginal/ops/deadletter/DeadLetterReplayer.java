package io.marginal.ops.deadletter;

import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.deadletter.DeadLetters;
import io.marginal.schemas.serde.MarginalSerdes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes dead-lettered records back to the topics they came from, once whatever refused them is fixed:
 * the original key and value bytes, unchanged, with a {@value DeadLetters#HEADER_REPLAY_OF} header naming
 * the letter. Reads the dead-letter topic from {@code fromOffset} (every partition) up to its end at the
 * start of the run. A letter whose value was truncated (only a prefix, size and sha256 were kept) cannot
 * be replayed and is reported with what identifies the original; so is a letter that cannot be read.
 */
public final class DeadLetterReplayer {

  /** Which letters a run replays. */
  public record Selection(Optional<String> sourceTopic, Optional<String> application, Map<Integer, Long> fromOffsets) {

    public static Selection all() {
      return new Selection(Optional.empty(), Optional.empty(), Map.of());
    }

    /**
     * Parses {@code --from-offset}: one offset for every partition ({@code 12}) or one per partition
     * ({@code 0:12,1:40}, as a run prints it); partitions not named start at 0.
     */
    public static Map<Integer, Long> parseOffsets(String spec) {
      try {
        return offsets(spec);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--from-offset: '" + spec + "' is not N or PARTITION:OFFSET,... (" + e.getMessage() + ")");
      }
    }

    private static Map<Integer, Long> offsets(String spec) {
      Map<Integer, Long> out = new HashMap<>();
      if (!spec.contains(":")) {
        out.put(-1, Long.parseLong(spec.trim()));
        return out;
      }
      for (String part : spec.split(",")) {
        String[] pair = part.split(":");
        if (pair.length != 2) {
          throw new IllegalArgumentException("--from-offset: '" + part + "' is not PARTITION:OFFSET");
        }
        out.put(Integer.parseInt(pair[0].trim()), Long.parseLong(pair[1].trim()));
      }
      return out;
    }

    long fromOffset(int partition) {
      return fromOffsets.getOrDefault(partition, fromOffsets.getOrDefault(-1, 0L));
    }

    Predicate<DeadLetter> predicate() {
      return l -> sourceTopic.map(t -> t.equals(l.getSourceTopic())).orElse(true)
          && application.map(a -> a.equals(l.getApplication())).orElse(true);
    }
  }

  /** One letter the run looked at and what it did with it. */
  public record Outcome(String letter, String source, Action action, String detail) {
    @Override
    public String toString() {
      return String.format("%-28s %-34s %-10s %s", letter, source, action, detail);
    }
  }

  public enum Action { REPLAYED, WOULD_REPLAY, UNREPLAYABLE }

  /** What a run did; {@code nextOffset} per partition is where a later run can start to see only newer letters. */
  public record Report(List<Outcome> outcomes, Map<Integer, Long> nextOffset) {
    public long count(Action action) {
      return outcomes.stream().filter(o -> o.action() == action).count();
    }

    /** {@code nextOffset} as {@code --from-offset} takes it. */
    public String resumeFrom() {
      return nextOffset.entrySet().stream().sorted(Map.Entry.comparingByKey())
          .map(e -> e.getKey() + ":" + e.getValue()).collect(java.util.stream.Collectors.joining(","));
    }
  }

  private final Map<String, Object> clientConfig;
  private final String deadLetterTopic;

  public DeadLetterReplayer(Map<String, Object> clientConfig, String deadLetterTopic) {
    this.clientConfig = Map.copyOf(clientConfig);
    this.deadLetterTopic = deadLetterTopic;
  }

  /** Replays the selected letters ({@code dryRun}: only says what it would replay). */
  public Report replay(Selection selection, boolean dryRun, Duration timeout) throws InterruptedException {
    List<Outcome> outcomes = new ArrayList<>();
    Map<Integer, Long> next = new java.util.TreeMap<>();
    List<Future<RecordMetadata>> sends = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig());
         KafkaProducer<byte[], byte[]> producer = dryRun ? null : new KafkaProducer<>(producerConfig())) {
      List<TopicPartition> partitions = consumer.partitionsFor(deadLetterTopic, timeout).stream()
          .map(p -> new TopicPartition(deadLetterTopic, p.partition())).toList();
      consumer.assign(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, timeout);
      for (TopicPartition p : partitions) {
        next.put(p.partition(), end.get(p));
        consumer.seek(p, Math.min(end.get(p), Math.max(begin.get(p), selection.fromOffset(p.partition()))));
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + deadLetterTopic + " to its end within " + timeout);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
            continue;
          }
          Outcome outcome = handle(r, selection, dryRun, producer, sends);
          if (outcome != null) {
            outcomes.add(outcome);
          }
        }
      }
      if (producer != null) {
        producer.flush();
        for (Future<RecordMetadata> send : sends) {
          send.get();
        }
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("a replayed record was not acknowledged: " + e.getCause().getMessage(), e.getCause());
    }
    return new Report(outcomes, next);
  }

  private Outcome handle(ConsumerRecord<byte[], byte[]> r, Selection selection, boolean dryRun,
                         KafkaProducer<byte[], byte[]> producer, List<Future<RecordMetadata>> sends) {
    String at = r.topic() + "-" + r.partition() + "@" + r.offset();
    DeadLetter letter;
    try {
      letter = MarginalSerdes.DEAD_LETTER.deserialize(r.topic(), r.value());
    } catch (RuntimeException e) {
      return new Outcome(at, "?", Action.UNREPLAYABLE, "not a readable dead letter: " + e.getMessage());
    }
    if (letter == null || !selection.predicate().test(letter)) {
      return null;
    }
    String source = letter.getSourceTopic() + "-" + letter.getPartition() + "@" + letter.getOffset();
    if (letter.getValueTruncated()) {
      return new Outcome(at, source, Action.UNREPLAYABLE, "only " + letter.getValue().remaining() + " of "
          + letter.getValueSize() + " bytes were kept (sha256 " + letter.getValueSha256() + "); resend it from its producer");
    }
    byte[] key = bytes(letter.getKey());
    if (key != null && key.length == DeadLetters.MAX_KEY_BYTES) {
      return new Outcome(at, source, Action.UNREPLAYABLE, "its key may have been cut to " + DeadLetters.MAX_KEY_BYTES + " bytes");
    }
    if (dryRun) {
      return new Outcome(at, source, Action.WOULD_REPLAY, letter.getApplication() + ": " + letter.getReason());
    }
    RecordHeaders headers = new RecordHeaders();
    headers.add(DeadLetters.HEADER_REPLAY_OF, at.getBytes(StandardCharsets.UTF_8));
    sends.add(producer.send(new ProducerRecord<>(letter.getSourceTopic(), null, key, bytes(letter.getValue()), headers)));
    return new Outcome(at, source, Action.REPLAYED, letter.getApplication() + ": " + letter.getReason());
  }

  private static byte[] bytes(ByteBuffer buffer) {
    if (buffer == null) {
      return null;
    }
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }

  private Map<String, Object> consumerConfig() {
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.remove(ConsumerConfig.GROUP_ID_CONFIG);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return config;
  }

  private Map<String, Object> producerConfig() {
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, "dead-letter-replay");
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return config;
  }
}
