package io.marginal.streams.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.query.MemoryBankTopicWatcher;
import io.marginal.streams.topology.Events;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Erasure, proven on the bytes: a user's data carrying a unique canary string is published, processed,
 * flushed to disk (the app restarts, so RocksDB holds it in SST files) and seen there by the scan; the user
 * asks for ALL_USER_DATA deletion; once the receipt's {@code physicallyErasedBy} has passed, no file under
 * the broker's log directory or the streams state directory contains the canary.
 *
 * <p>Settings (what a production cluster needs, scaled down from hours to seconds): every user-data topic
 * and changelog rolls segments after {@code segment.ms} 2 s; compacted ones have {@code max.compaction.lag.ms}
 * and {@code delete.retention.ms} 2 s, inputs {@code retention.ms} 4 s; the broker checks retention and
 * cleans every 0.5 s and deletes old segment files after 0.1 s. Background traffic from other users keeps
 * every partition receiving writes, as in production: Kafka rolls a segment only when something is appended.
 */
class PhysicalErasureIT {

  private static final Map<String, String> FAST_BROKER = Map.of(
      "log.retention.check.interval.ms", "500",
      "log.cleaner.backoff.ms", "500",
      "log.segment.delete.delay.ms", "100",
      "log.initial.task.delay.ms", "0");

  @Test
  void afterThePromisedTimeNoFileOfBrokerOrStateHoldsTheDeletedText() throws Exception {
    String canary = "canary-" + UUID.randomUUID();
    byte[] needle = canary.getBytes(StandardCharsets.UTF_8);
    Path state = Files.createTempDirectory("erasure-it-state");
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary(FAST_BROKER)) {
      StreamsAppConfig config = StreamsAppConfig.from(Map.of(
              "MARGINAL_TOPIC_SEGMENT_AGE", "PT2S",
              "MARGINAL_TOPIC_COMPACTION_LAG", "PT2S",
              "MARGINAL_TOPIC_INPUT_RETENTION", "PT4S"))
          .withBootstrapServers(kafka.bootstrapServers()).withState("erasure-it", state).withHttpPort(0);
      Topics topics = config.topics();
      Path brokerLogs = kafka.settings().dataDir();
      AtomicBoolean traffic = new AtomicBoolean(true);
      try (KafkaProducer<String, byte[]> producer = AppTraffic.producer(kafka.bootstrapServers());
           MemoryBankTopicWatcher watcher = new MemoryBankTopicWatcher(kafka.bootstrapServers(), topics.name(Topics.MEMORY_BANKS),
               false, true)) {
        MarginalStreamsApp app = MarginalStreamsApp.start(config);
        app.awaitRunning(Duration.ofSeconds(60));
        Thread background = new Thread(() -> otherUsers(producer, topics, traffic), "background-traffic");
        background.start();
        try {
          long now = System.currentTimeMillis();
          send(producer, topics, Events.interaction("erasure-user", "i-canary", "tell me about " + canary, "the " + canary + " answer", now));
          send(producer, topics, Events.preferred("erasure-user", "f-canary", "i-canary", "I prefer " + canary, now + 1));
          assertTrue(MemoryBankTopicWatcher.await(() -> watcher.upsertedAtNanos("f-canary") != null, Duration.ofSeconds(30)),
              "the canary entry never reached memory-banks");

          // A clean close flushes RocksDB: the canary is now in SST files, where a delete alone would leave it.
          app.close();
          assertFalse(filesContaining(state, needle).isEmpty(), "the scan must see the canary in the state dir before the deletion");
          assertFalse(filesContaining(brokerLogs, needle).isEmpty(), "the scan must see the canary in the broker logs before the deletion");
          app = MarginalStreamsApp.start(config);
          app.awaitRunning(Duration.ofSeconds(60));

          send(producer, topics, Events.deletion("erasure-user", "d-canary", DeletionScope.ALL_USER_DATA, List.of(), null,
              System.currentTimeMillis()));
          DeletionReceipt receipt = awaitReceipt(kafka.bootstrapServers(), topics, "d-canary");
          assertEquals(ReceiptStatus.COMPLETED, receipt.getStatus());
          assertEquals(receipt.getHiddenAt().plusMillis(topics.userDataErasureBoundMs()), receipt.getPhysicallyErasedBy());
          Instant bound = receipt.getPhysicallyErasedBy();
          long waitMs = Duration.between(Instant.now(), bound).toMillis();
          if (waitMs > 0) {
            Thread.sleep(waitMs);
          }
          Instant scanStart = Instant.now();
          List<Path> hits = new ArrayList<>(filesContaining(state, needle));
          hits.addAll(filesContaining(brokerLogs, needle));
          System.out.printf("erasure: deletion hidden at %s, receipt bound %s (+%d ms); scan of every file under the state dir"
                  + " and the broker log dir from %s to %s: %d file(s) hold the canary %s%n",
              receipt.getHiddenAt(), bound, topics.userDataErasureBoundMs(), scanStart, Instant.now(), hits.size(), hits);
          assertEquals(List.of(), hits, "files still holding the deleted text after physicallyErasedBy " + bound);
        } finally {
          traffic.set(false);
          background.join(5000);
          app.close();
        }
      }
    }
  }

  /** Other users keep chatting: every partition keeps receiving writes, so segments roll as they do in production. */
  private static void otherUsers(KafkaProducer<String, byte[]> producer, Topics topics, AtomicBoolean running) {
    int n = 0;
    while (running.get()) {
      String user = "bg-" + (n % 12);
      long now = System.currentTimeMillis();
      send(producer, topics, Events.interaction(user, "i-" + n, "prompt " + n, "answer " + n, now));
      send(producer, topics, Events.preferred(user, "f-" + n, "i-" + n, "better " + n, now));
      n++;
      try {
        Thread.sleep(40);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static void send(KafkaProducer<String, byte[]> producer, Topics topics, Object event) {
    if (event instanceof Interaction i) {
      producer.send(new ProducerRecord<>(topics.name(Topics.INTERACTIONS), null, i.getTimestamp().toEpochMilli(), i.getUserId(),
          MarginalSerdes.INTERACTION.serialize("", i)));
    } else if (event instanceof Feedback f) {
      producer.send(new ProducerRecord<>(topics.name(Topics.FEEDBACK), null, f.getTimestamp().toEpochMilli(), f.getUserId(),
          MarginalSerdes.FEEDBACK.serialize("", f)));
    } else if (event instanceof io.marginal.schemas.DeletionRequest d) {
      producer.send(new ProducerRecord<>(topics.name(Topics.DELETIONS), null, d.getTimestamp().toEpochMilli(), d.getUserId(),
          MarginalSerdes.DELETION_REQUEST.serialize("", d)));
    }
    producer.flush();
  }

  private static DeletionReceipt awaitReceipt(String bootstrap, Topics topics, String deletionId) {
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "erasure-it-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
      consumer.subscribe(List.of(topics.name(Topics.DELETION_RECEIPTS)));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        for (var r : consumer.poll(Duration.ofMillis(100))) {
          DeletionReceipt receipt = MarginalSerdes.DELETION_RECEIPT.deserialize("", r.value());
          if (receipt.getDeletionId().equals(deletionId)) {
            return receipt;
          }
        }
      }
    }
    throw new AssertionError("no receipt for deletion " + deletionId + " within 30 s");
  }

  /** Every regular file under {@code root} whose bytes contain {@code needle}. */
  static List<Path> filesContaining(Path root, byte[] needle) {
    List<Path> hits = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      files.filter(Files::isRegularFile).forEach(f -> {
        try {
          if (indexOf(Files.readAllBytes(f), needle) >= 0) {
            hits.add(f);
          }
        } catch (NoSuchFileException e) {
          // deleted while we walked: it holds nothing any more
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + f, e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot walk " + root, e);
    } catch (UncheckedIOException e) {
      if (!(e.getCause() instanceof NoSuchFileException)) {
        throw e;
      }
    }
    return hits;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
