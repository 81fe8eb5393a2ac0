package io.marginal.ops.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Follows one topic from its end in the background and lets the scenario wait for the first
 * record that satisfies a condition (a receipt for this deletion, an acknowledgement of that
 * adapter version).
 */
final class TopicWatch<T> implements AutoCloseable {

  private final KafkaConsumer<String, byte[]> consumer;
  private final Function<byte[], T> decode;
  private final List<T> seen = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;

  TopicWatch(String bootstrapServers, String topic, Function<byte[], T> decode) {
    this.decode = decode;
    this.consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.GROUP_ID_CONFIG, "demo-watch-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
    consumer.subscribe(List.of(topic));
    // Join the group before the scenario acts, so nothing it causes is missed.
    while (consumer.assignment().isEmpty()) {
      consumer.poll(Duration.ofMillis(100));
    }
    consumer.seekToEnd(consumer.assignment());
    consumer.assignment().forEach(consumer::position);
    this.thread = new Thread(this::follow, "demo-watch-" + topic);
    thread.setDaemon(true);
    thread.start();
  }

  private void follow() {
    try {
      while (running) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(100))) {
          if (record.value() != null) {
            T value = decode.apply(record.value());
            synchronized (seen) {
              seen.add(value);
              seen.notifyAll();
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

  Optional<T> await(Predicate<T> condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (seen) {
      while (true) {
        for (T value : seen) {
          if (condition.test(value)) {
            return Optional.of(value);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.empty();
        }
        seen.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
  }
}
