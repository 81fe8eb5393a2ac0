package io.marginal.streams.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaCluster;
import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.query.MemoryBankTopicWatcher;
import io.marginal.streams.topology.Events;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/**
 * Scale-out on a real cluster: 3 KRaft nodes in this JVM (replication factor 3, min.insync.replicas 2), two
 * instances of the app with one standby replica each, steady feedback from 20 users. Mid-run one app
 * instance dies (closed without leaving the group, as a crash) and then one broker stops. Afterwards every
 * acknowledged feedback event is in the banks exactly once (its entry is there, and each user's revision —
 * changes applied — equals the number of its acknowledged events), nothing valid was dead-lettered, and the
 * time the survivor took to take over is printed (~45 s in all on two cores).
 */
class ScaleOutClusterIT {

  private static final int USERS = 20;
  private static final int EVENTS = 1_200;

  @Test
  void aDeadInstanceAndADeadBrokerLoseNothingAndCountNothingTwice() throws Exception {
    long t0 = System.nanoTime();
    try (EmbeddedKafkaCluster cluster = EmbeddedKafkaCluster.start(3, Map.of())) {
      System.out.printf("scale-out phase: cluster up after %.1f s%n", (System.nanoTime() - t0) / 1e9);
      StreamsAppConfig a = config(cluster, "a");
      StreamsAppConfig b = config(cluster, "b");
      Topics topics = a.topics();
      TopicProvisioner.ensureTopics(cluster.bootstrapServers(), Map.of(), topics);
      KafkaStreams first = start(a);
      KafkaStreams second = start(b);
      Map<String, Set<String>> acked = new ConcurrentHashMap<>();
      AtomicInteger failedSends = new AtomicInteger();
      AtomicLong deadLetters = new AtomicLong();
      try (MemoryBankTopicWatcher watcher = new MemoryBankTopicWatcher(cluster.bootstrapServers(), topics.name(Topics.MEMORY_BANKS));
           KafkaProducer<String, byte[]> producer = AppTraffic.producer(cluster.bootstrapServers());
           KafkaConsumer<String, byte[]> letters = deadLetterReader(cluster.bootstrapServers(), topics)) {
        awaitRunning(first, second);
        System.out.printf("scale-out phase: both instances RUNNING after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        long killedAt = 0;
        long survivorRunningAt = 0;
        for (int n = 0; n < EVENTS; n++) {
          String user = "user-" + (n % USERS);
          long now = System.currentTimeMillis();
          String fid = "f-" + n;
          producer.send(new ProducerRecord<>(topics.name(Topics.INTERACTIONS), null, now, user,
              MarginalSerdes.INTERACTION.serialize("", Events.interaction(user, "i-" + n, "prompt " + n, "r" + (n % 7), now))));
          producer.send(new ProducerRecord<>(topics.name(Topics.FEEDBACK), null, now, user,
              MarginalSerdes.FEEDBACK.serialize("", Events.preferred(user, fid, "i-" + n, "y" + (n % 5), now))), (meta, error) -> {
                if (error == null) {
                  acked.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).add(fid);
                } else {
                  failedSends.incrementAndGet();
                }
              });
          if (n == EVENTS / 3) {
            producer.flush();
            killedAt = System.nanoTime();
            first.close(Duration.ZERO); // a crash: no leave-group, the survivor waits for the session timeout
          }
          if (n == 2 * EVENTS / 3) {
            cluster.stopNode(2);
          }
          if (killedAt > 0 && survivorRunningAt == 0 && second.state() == KafkaStreams.State.RUNNING
              && second.metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum() == 3) {
            survivorRunningAt = System.nanoTime();
          }
          Thread.sleep(15);
        }
        producer.flush();
        System.out.printf("scale-out phase: all sent after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        int expected = acked.values().stream().mapToInt(Set::size).sum();
        boolean complete = MemoryBankTopicWatcher.await(() -> acked.entrySet().stream().allMatch(e -> {
          var bank = watcher.replica().bankOf(e.getKey());
          return bank.isPresent() && bank.get().getEntries().size() >= e.getValue().size();
        }), Duration.ofSeconds(180));
        if (survivorRunningAt == 0) {
          MemoryBankTopicWatcher.await(() -> second.metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum() == 3,
              Duration.ofSeconds(60));
          survivorRunningAt = System.nanoTime();
        }
        System.out.printf("scale-out phase: banks complete=%s after %.1f s%n", complete, (System.nanoTime() - t0) / 1e9);
        letters.poll(Duration.ofSeconds(2)).forEach(r -> deadLetters.incrementAndGet());

        Map<String, Integer> counted = new TreeMap<>();
        for (var e : acked.entrySet()) {
          MemoryBank bank = watcher.replica().bankOf(e.getKey()).orElseThrow();
          Set<String> ids = bank.getEntries().stream().map(BankEntry::getEntryId).collect(Collectors.toCollection(TreeSet::new));
          assertEquals(new TreeSet<>(e.getValue()), ids, "entries of " + e.getKey() + " = its acknowledged feedback");
          assertEquals(e.getValue().size(), bank.getRevision(), "changes applied to " + e.getKey() + " (each event exactly once)");
          counted.merge("entries", ids.size(), Integer::sum);
        }
        System.out.printf("scale-out: 3 brokers (RF 3, min.insync 2), 2 instances + 1 standby; %d acknowledged feedback events,"
                + " %d in the banks exactly once (complete: %s); instance killed after %d events: the survivor owned all 3 tasks"
                + " %.1f s later (6 s session timeout + rebalance); broker 3 stopped after %d events; %d send errors; %d dead letters%n",
            expected, counted.getOrDefault("entries", 0), complete, EVENTS / 3, (survivorRunningAt - killedAt) / 1e9,
            2 * EVENTS / 3, failedSends.get(),
            deadLetters.get());
        assertTrue(complete, "not every acknowledged event reached the banks");
        assertEquals(0, failedSends.get(), "sends failed");
        assertEquals(EVENTS, expected);
        assertEquals(0, deadLetters.get(), "valid events were dead-lettered");
      } finally {
        second.close(Duration.ofSeconds(10));
        first.close(Duration.ofSeconds(1));
        System.out.printf("scale-out phase: instances closed after %.1f s%n", (System.nanoTime() - t0) / 1e9);
      }
    }
    System.out.printf("scale-out phase: cluster closed after %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }

  private static StreamsAppConfig config(EmbeddedKafkaCluster cluster, String instance) throws Exception {
    return StreamsAppConfig.from(Map.of("MARGINAL_TOPIC_REPLICATION_FACTOR", "3", "MARGINAL_STREAMS_STANDBY_REPLICAS", "1"))
        .withBootstrapServers(cluster.bootstrapServers())
        .withState("scale-out-it", Files.createTempDirectory("scale-out-" + instance)).withHttpPort(0);
  }

  /** The app's own topology and properties, with a short session timeout so that a crash is noticed in seconds. */
  private static KafkaStreams start(StreamsAppConfig config) {
    Properties props = config.toStreamsProperties();
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
    KafkaStreams streams = new KafkaStreams(MarginalStreamsApp.topology(config), props);
    streams.start();
    return streams;
  }

  private static void awaitRunning(KafkaStreams... instances) {
    assertTrue(MemoryBankTopicWatcher.await(() -> java.util.Arrays.stream(instances).allMatch(s -> s.state() == KafkaStreams.State.RUNNING),
        Duration.ofSeconds(120)), "instances not RUNNING");
  }

  private static KafkaConsumer<String, byte[]> deadLetterReader(String bootstrap, Topics topics) {
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "scale-out-letters-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
    consumer.subscribe(List.of(topics.name(Topics.DEAD_LETTERS)));
    return consumer;
  }
}
