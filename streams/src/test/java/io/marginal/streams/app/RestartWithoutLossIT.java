package io.marginal.streams.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.query.MemoryBankTopicWatcher;
import io.marginal.streams.query.MemoryBankQuery;
import io.marginal.streams.topology.Events;
import io.marginal.streams.topology.TopologyFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

/**
 * Kill the app mid-stream (close with a zero timeout while input is still arriving), restart it on the
 * same state directory and application id, and compare the banks with a TopologyTestDriver reference
 * run over the same events: same entries, same aggregates, same revision (every event applied exactly
 * once), and exactly one committed memory-banks record per bank change (no double publication).
 */
class RestartWithoutLossIT {

  private static final int USERS = 6;
  private static final int INTERACTIONS_PER_USER = 40;

  @Test
  void restartMidStreamLosesNothingAndCountsNothingTwice() throws Exception {
    long t0 = System.currentTimeMillis();
    List<Object> events = history(t0);
    Path state = Files.createTempDirectory("restart-it-state");
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
      StreamsAppConfig config = StreamsAppConfig.defaults().withBootstrapServers(kafka.bootstrapServers())
          .withState("restart-it", state).withApplicationServer("localhost:7070")
          .withBank(TopologyFixture.SETTINGS).withHttpPort(0);
      Topics topics = config.topics();
      MarginalStreamsApp first = MarginalStreamsApp.start(config);
      first.awaitRunning(Duration.ofSeconds(60));

      try (MemoryBankTopicWatcher watcher = new MemoryBankTopicWatcher(kafka.bootstrapServers(), topics.name(Topics.MEMORY_BANKS));
           KafkaProducer<String, byte[]> producer = AppTraffic.producer(kafka.bootstrapServers())) {
        CompletableFuture<Void> feeding = CompletableFuture.runAsync(() -> send(producer, topics, events));

        assertTrue(MemoryBankTopicWatcher.await(() -> watcher.recordCounts().values().stream().mapToInt(i -> i).sum() >= 20,
            Duration.ofSeconds(60)), "first instance produced no banks");
        first.streams().close(Duration.ZERO);
        assertTrue(MemoryBankTopicWatcher.await(() -> first.streams().state() == KafkaStreams.State.NOT_RUNNING
            || first.streams().state() == KafkaStreams.State.ERROR, Duration.ofSeconds(60)));
        int seenBeforeRestart = watcher.recordCounts().values().stream().mapToInt(i -> i).sum();

        MarginalStreamsApp second = MarginalStreamsApp.start(config);
        try {
          feeding.get();
          Map<String, MemoryBank> expected = reference(events);
          assertTrue(seenBeforeRestart < expected.values().stream().mapToLong(MemoryBank::getRevision).sum(),
              "the restart must happen mid-stream");
          boolean done = MemoryBankTopicWatcher.await(() -> expected.entrySet().stream().allMatch(e -> {
            Optional<MemoryBank> got = watcher.latest().getOrDefault(e.getKey(), Optional.empty());
            return got.isPresent() && got.get().getRevision() >= e.getValue().getRevision();
          }), Duration.ofSeconds(90));
          assertTrue(done, "banks incomplete after restart: " + watcher.recordCounts());

          for (Map.Entry<String, MemoryBank> e : expected.entrySet()) {
            MemoryBank got = watcher.latest().get(e.getKey()).orElseThrow();
            assertEquals(e.getValue().getEntries(), got.getEntries(), "entries of " + e.getKey());
            assertEquals(e.getValue().getTransitions(), got.getTransitions(), "aggregates of " + e.getKey());
            assertEquals(e.getValue().getRevision(), got.getRevision(), "revision (events applied) of " + e.getKey());
            assertEquals((int) e.getValue().getRevision(), watcher.recordCounts().get(e.getKey()),
                "committed memory-banks records of " + e.getKey());
          }

          second.awaitRunning(Duration.ofSeconds(30));
          MemoryBankQuery query = new MemoryBankQuery(second.streams(), new HostInfo("localhost", 7070));
          MemoryBankQuery.Answer answer = query.bankOf("user-0");
          assertInstanceOf(MemoryBankQuery.Answer.Remote.class,
              new MemoryBankQuery(second.streams(), new HostInfo("elsewhere", 1)).bankOf("user-0"));
          MemoryBankQuery.Answer.Local local = assertInstanceOf(MemoryBankQuery.Answer.Local.class, answer);
          assertEquals(expected.get("user-0").getEntries(), local.bank().orElseThrow().getEntries());
        } finally {
          second.close();
        }
      }
    }
  }

  private static List<Object> history(long t0) {
    Random random = new Random(7);
    List<Object> events = new ArrayList<>();
    String[] labels = {"A", "B", "C", "D", "E"};
    for (int n = 0; n < INTERACTIONS_PER_USER; n++) {
      for (int u = 0; u < USERS; u++) {
        String user = "user-" + u;
        String id = user + "-i" + n;
        long ts = t0 + n * 100L + u;
        events.add(Events.interaction(user, id, "prompt " + n, labels[random.nextInt(labels.length)], ts));
        int feedbacks = 1 + random.nextInt(2);
        for (int k = 0; k < feedbacks; k++) {
          events.add(Events.feedback(user, id + "-f" + k, id,
              random.nextBoolean() ? FeedbackKind.PREFERRED_RESPONSE : FeedbackKind.THUMBS_UP,
              labels[random.nextInt(labels.length)], null, ts + 1 + k));
        }
      }
    }
    return events;
  }

  private static void send(KafkaProducer<String, byte[]> producer, Topics topics, List<Object> events) {
    try {
      for (int n = 0; n < events.size(); n++) {
        Object e = events.get(n);
        if (e instanceof Interaction i) {
          producer.send(new ProducerRecord<>(topics.name(Topics.INTERACTIONS), null, i.getTimestamp().toEpochMilli(),
              i.getUserId(), MarginalSerdes.INTERACTION.serialize("", i)));
        } else if (e instanceof Feedback f) {
          producer.send(new ProducerRecord<>(topics.name(Topics.FEEDBACK), null, f.getTimestamp().toEpochMilli(),
              f.getUserId(), MarginalSerdes.FEEDBACK.serialize("", f)));
        }
        if (n % 20 == 19) {
          producer.flush();
          Thread.sleep(15); // spread the input over the restart
        }
      }
      producer.flush();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(ex);
    }
  }

  private static Map<String, MemoryBank> reference(List<Object> events) {
    Map<String, MemoryBank> out = new TreeMap<>();
    try (TopologyFixture fx = new TopologyFixture(TopologyFixture.SETTINGS)) {
      for (Object e : events) {
        if (e instanceof Interaction i) {
          fx.interact(i);
        } else if (e instanceof Feedback f) {
          fx.give(f);
        }
      }
      for (int u = 0; u < USERS; u++) {
        out.put("user-" + u, fx.bankOf("user-" + u));
      }
    }
    return out;
  }
}
