package io.marginal.inference.kafka;

import io.marginal.schemas.deadletter.DeadLetterPublisher;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a whole (compacted) topic from the beginning and then follows it, on its own thread,
 * without a consumer group: every node needs every partition (it is a replica, not a share of
 * the work). {@link #awaitCaughtUp} tells when the records that existed at start have been seen.
 * A record the handler cannot read goes to the dead-letter topic (once, across restarts, when the
 * publisher remembers earlier letters) and is skipped.
 */
public final class TopicTail implements AutoCloseable {

  /** What to do with each record; throw {@link UnreadableRecordException} for records that cannot be decoded. */
  @FunctionalInterface
  public interface RecordHandler {
    void handle(ConsumerRecord<byte[], byte[]> record);
  }

  /** A record whose bytes cannot be decoded: dead-lettered, then skipped. */
  public static final class UnreadableRecordException extends RuntimeException {
    public UnreadableRecordException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(TopicTail.class);

  private final String topic;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final DeadLetterPublisher deadLetters;
  private final RecordHandler handler;
  private final Thread thread;
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final AtomicBoolean rewind = new AtomicBoolean();
  private volatile boolean running = true;
  private volatile String stoppedBecause;

  public TopicTail(String topic, Map<String, Object> clientConfig, String clientId, DeadLetterPublisher deadLetters,
      RecordHandler handler) {
    this.topic = topic;
    Map<String, Object> config = new HashMap<>(clientConfig);
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    this.consumer = new KafkaConsumer<>(config);
    this.deadLetters = deadLetters;
    this.handler = handler;
    this.thread = new Thread(this::run, clientId);
    this.thread.setDaemon(true);
  }

  public TopicTail start() {
    thread.start();
    return this;
  }

  /** Reads the topic again from the beginning (the handler must be idempotent). */
  public void rewind() {
    rewind.set(true); // picked up within one poll interval; no wakeup, which could interrupt position()
  }

  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean isCaughtUp() {
    return caughtUp.getCount() == 0;
  }

  /** Why the reader thread ended while it should still be reading (readiness reports it); empty while healthy. */
  public java.util.Optional<String> failure() {
    if (stoppedBecause != null) {
      return java.util.Optional.of(stoppedBecause);
    }
    if (running && thread.getState() == Thread.State.TERMINATED) {
      return java.util.Optional.of("reader thread ended");
    }
    return java.util.Optional.empty();
  }

  private void run() {
    try {
      List<TopicPartition> partitions = partitions();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> startEnd = consumer.endOffsets(partitions);
      while (running) {
        if (rewind.getAndSet(false)) {
          consumer.seekToBeginning(partitions);
          LOG.info("{}: reading again from the beginning", topic);
        }
        ConsumerRecords<byte[], byte[]> records;
        try {
          records = consumer.poll(Duration.ofMillis(200));
        } catch (WakeupException e) {
          continue;
        }
        for (ConsumerRecord<byte[], byte[]> record : records) {
          try {
            handler.handle(record);
          } catch (UnreadableRecordException e) {
            deadLetter(record, e);
          } catch (RuntimeException e) {
            LOG.error("{}-{}@{}: handler failed: {}", record.topic(), record.partition(), record.offset(), e.toString(), e);
          }
        }
        if (caughtUp.getCount() > 0 && startEnd.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
          caughtUp.countDown();
          LOG.info("{}: caught up with the records present at start", topic);
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException | Error e) {
      if (running) {
        stoppedBecause = e.toString();
        LOG.error("{}: reader stopped: {}", topic, e.toString(), e);
      }
      if (e instanceof Error error && !(error instanceof OutOfMemoryError || error instanceof StackOverflowError)) {
        throw error;
      }
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private List<TopicPartition> partitions() {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (running) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      if (infos != null && !infos.isEmpty()) {
        return infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("topic " + topic + " does not exist; create the topics first (TopicProvisioner)");
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    return List.of();
  }

  private void deadLetter(ConsumerRecord<byte[], byte[]> record, UnreadableRecordException e) {
    try {
      deadLetters.publishOnce(record, e.getMessage(), e.getCause() == null ? e : e.getCause());
    } catch (RuntimeException failure) {
      LOG.error("{}-{}@{}: unreadable ({}) and could not be dead-lettered: {}", record.topic(), record.partition(),
          record.offset(), e.getMessage(), failure.getMessage());
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
