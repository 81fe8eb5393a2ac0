package io.marginal.streams.bench;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.Candidate;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.MarginalStreamsApp;
import io.marginal.streams.app.StreamsAppConfig;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Throughput of feedback into the banks and latency from a deletion event to its tombstone, end to end
 * through a real broker (embedded, same JVM) and the real app with exactly_once_v2.
 *
 * <p>Usage: {@code FeedbackBenchmark [feedbackEvents=10000] [users=500] [deletions=200]}.
 * Phase 1 publishes one interaction and one PREFERRED_RESPONSE feedback per event, round-robin over
 * users, and times from the first send until every bank on memory-banks (read_committed) shows its last
 * revision. Phase 2 sends ALL_USER_DATA deletions one at a time (every 20 ms) and times each from send to
 * the tombstone's arrival on memory-banks. Baseline for comparison: the EOS commit interval (100 ms), a
 * floor on the latency of anything that must be committed before a read_committed consumer sees it.
 */
public final class FeedbackBenchmark {

  private FeedbackBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int users = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    int deletions = Math.min(users, args.length > 2 ? Integer.parseInt(args[2]) : 200);
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
      StreamsAppConfig config = StreamsAppConfig.defaults().withBootstrapServers(kafka.bootstrapServers())
          .withState("marginal-bench", Files.createTempDirectory("bench-state"));
      Topics topics = config.topics();
      try (MarginalStreamsApp app = MarginalStreamsApp.start(config);
           MemoryBankTopicWatcher watcher = new MemoryBankTopicWatcher(kafka.bootstrapServers(), topics.name(Topics.MEMORY_BANKS));
           KafkaProducer<String, byte[]> producer = producer(kafka.bootstrapServers())) {
        app.awaitRunning(Duration.ofSeconds(60));

        Random random = new Random(1);
        long base = System.currentTimeMillis();
        long started = System.nanoTime();
        for (int n = 0; n < events; n++) {
          String user = "user-" + (n % users);
          String id = "i-" + n;
          long ts = base + n;
          Interaction interaction = Interaction.newBuilder().setInteractionId(id).setUserId(user)
              .setTimestamp(Instant.ofEpochMilli(ts)).setModel("bench").setPrompt("prompt " + n).setResponse("r" + random.nextInt(10))
              .setCandidates(List.of(new Candidate("r0", 0.5), new Candidate("r1", 0.5)))
              .setInstanceEmbedding(embedding(random, 64)).build();
          Feedback feedback = Feedback.newBuilder().setFeedbackId("f-" + n).setUserId(user).setInteractionId(id)
              .setTimestamp(Instant.ofEpochMilli(ts)).setKind(FeedbackKind.PREFERRED_RESPONSE)
              .setPreferredResponse("r" + random.nextInt(10)).build();
          producer.send(new ProducerRecord<>(topics.name(Topics.INTERACTIONS), null, ts, user, MarginalSerdes.INTERACTION.serialize("", interaction)));
          producer.send(new ProducerRecord<>(topics.name(Topics.FEEDBACK), null, ts, user, MarginalSerdes.FEEDBACK.serialize("", feedback)));
        }
        producer.flush();
        int perUser = events / users;
        boolean done = MemoryBankTopicWatcher.await(() -> totalRevisions(watcher.latest()) >= events, Duration.ofSeconds(90));
        double seconds = (System.nanoTime() - started) / 1e9;
        if (!done) {
          throw new IllegalStateException("only " + totalRevisions(watcher.latest()) + " of " + events
              + " feedback events reached the banks within 90 s");
        }

        long[] latencies = new long[deletions];
        long[] sentAt = new long[deletions];
        for (int d = 0; d < deletions; d++) {
          String user = "user-" + d;
          DeletionRequest request = DeletionRequest.newBuilder().setDeletionId("d-" + d).setUserId(user)
              .setTimestamp(Instant.now()).setScope(DeletionScope.ALL_USER_DATA).build();
          sentAt[d] = System.nanoTime();
          producer.send(new ProducerRecord<>(topics.name(Topics.DELETIONS), user, MarginalSerdes.DELETION_REQUEST.serialize("", request)));
          producer.flush();
          Thread.sleep(20);
        }
        boolean tombstoned = MemoryBankTopicWatcher.await(() -> {
          for (int d = 0; d < deletions; d++) {
            Long at = watcher.tombstonedAtNanos("user-" + d);
            if (at == null || at < sentAt[d]) {
              return false;
            }
          }
          return true;
        }, Duration.ofSeconds(60));
        if (!tombstoned) {
          throw new IllegalStateException("not every deletion reached memory-banks as a tombstone within 60 s");
        }
        for (int d = 0; d < deletions; d++) {
          latencies[d] = watcher.tombstonedAtNanos("user-" + d) - sentAt[d];
        }
        Arrays.sort(latencies);
        System.out.printf("%nfeedback into banks: %d feedback events (+%d interactions) over %d users (%d entries each) in %.2f s"
                + " = %.0f feedback events/s (%.0f input events/s), exactly_once_v2, commit interval %d ms, 3 partitions, 1 thread%n",
            events, events, users, perUser, seconds, events / seconds, 2 * events / seconds, config.commitInterval().toMillis());
        System.out.printf("deletion → tombstone on memory-banks (read_committed), %d ALL_USER_DATA deletions: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
                + " (baseline: EOS commit interval %d ms)%n",
            deletions, latencies[deletions / 2] / 1e6, latencies[(int) Math.ceil(deletions * 0.99) - 1] / 1e6,
            latencies[deletions - 1] / 1e6, config.commitInterval().toMillis());
      }
    }
  }

  private static long totalRevisions(Map<String, Optional<MemoryBank>> banks) {
    return banks.values().stream().mapToLong(b -> b.map(MemoryBank::getRevision).orElse(0L)).sum();
  }

  private static List<Float> embedding(Random random, int dim) {
    List<Float> e = new ArrayList<>(dim);
    for (int i = 0; i < dim; i++) {
      e.add((float) random.nextGaussian() / (float) Math.sqrt(dim));
    }
    return e;
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }
}
