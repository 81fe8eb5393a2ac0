package io.marginal.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.BrokerProcess;
import io.marginal.kafka.embedded.BrokerSettings;
import io.marginal.schemas.Candidate;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.DeletionScope;
import io.marginal.schemas.ErasedItem;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.TopicSettings;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.MarginalStreamsApp;
import io.marginal.streams.topology.MemoryBankTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * kill -9 under load, with every service a real process: the broker and the streams app run as
 * child JVMs, feedback flows (an interaction and a preferred response per event, acknowledged by
 * Kafka one by one), the streams process is killed with SIGKILL (its supervisor restarts it), then
 * the broker is killed with SIGKILL and started again on the same log. Afterwards every user's
 * bank holds exactly one entry per acknowledged pair — counted by the ALL_USER_DATA receipt, which
 * names how many entries it erased — and nothing valid was dead-lettered.
 */
class KillNineIT {

  private static final int USERS = 4;
  private static final int PAIRS_PER_USER = 50;
  private static final int EARLY_PAIRS = 5;

  @Test
  void everyAcknowledgedFeedbackIsInTheBanksExactlyOnceAfterKillingStreamsAndTheBroker() throws Exception {
    Path dir = Files.createTempDirectory("kill-nine-it");
    BrokerSettings settings = new BrokerSettings(dir.resolve("kafka"), 0, 0);
    Topics topics = new Topics(TopicSettings.from(Map.of()));
    BrokerProcess broker = BrokerProcess.start(settings, dir.resolve("broker.log"), Duration.ofSeconds(90));
    SupervisedProcess streams = null;
    try {
      TopicProvisioner.ensureTopics(settings.bootstrapServers(), Map.of(), topics);
      Map<String, String> env = new HashMap<>();
      env.put("MARGINAL_BOOTSTRAP_SERVERS", settings.bootstrapServers());
      env.put("MARGINAL_STREAMS_STATE_DIR", dir.resolve("streams").toString());
      env.put("MARGINAL_STREAMS_APPLICATION_ID", "kill-nine-it");
      env.put("MARGINAL_STREAMS_HTTP_PORT", "0"); // any free port: other runs may hold the default
      streams = SupervisedProcess.start("streams", List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx512m", "-cp", System.getProperty("java.class.path"), MarginalStreamsApp.class.getName()), env,
          dir.resolve("streams.log"), "started against", Duration.ofSeconds(90));

      Map<String, Integer> acked = new HashMap<>();
      int failed = 0;
      long t0 = System.nanoTime();
      try (KafkaProducer<String, byte[]> producer = producer(settings.bootstrapServers())) {
        for (int n = 0; n < EARLY_PAIRS; n++) {
          producer.send(new ProducerRecord<>(topics.name(Topics.INTERACTIONS), "user-early",
              MarginalSerdes.INTERACTION.serialize("", interaction("user-early", "e-" + n)))).get(60, TimeUnit.SECONDS);
          producer.send(new ProducerRecord<>(topics.name(Topics.FEEDBACK), "user-early",
              MarginalSerdes.FEEDBACK.serialize("", preferred("user-early", "e-" + n)))).get(60, TimeUnit.SECONDS);
        }
        for (int n = 0; n < USERS * PAIRS_PER_USER; n++) {
          String user = "user-" + (n % USERS);
          String id = "i-" + n;
          try {
            producer.send(new ProducerRecord<>(topics.name(Topics.INTERACTIONS), user,
                MarginalSerdes.INTERACTION.serialize("", interaction(user, id)))).get(120, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(topics.name(Topics.FEEDBACK), user,
                MarginalSerdes.FEEDBACK.serialize("", preferred(user, id)))).get(120, TimeUnit.SECONDS);
            acked.merge(user, 1, Integer::sum);
          } catch (Exception e) {
            failed++;
          }
          if (n == USERS * PAIRS_PER_USER / 4) {
            long pid = streams.pid();
            kill9(pid);
            System.out.printf("kill -9 streams process %d after %d pairs%n", pid, n);
            // Accepted by Kafka while streams is down: must complete once it is back.
            DeletionRequest early = DeletionRequest.newBuilder().setDeletionId("forget-early").setUserId("user-early")
                .setTimestamp(Instant.now()).setScope(DeletionScope.ALL_USER_DATA).setTargetIds(List.of()).build();
            producer.send(new ProducerRecord<>(topics.name(Topics.DELETIONS), "user-early",
                MarginalSerdes.DELETION_REQUEST.serialize("", early))).get(60, TimeUnit.SECONDS);
          }
          if (n == USERS * PAIRS_PER_USER / 2) {
            kill9(broker.pid());
            long down = System.nanoTime();
            broker = BrokerProcess.start(settings, dir.resolve("broker.log"), Duration.ofSeconds(90));
            System.out.printf("kill -9 broker after %d pairs; back in %d ms%n", n, (System.nanoTime() - down) / 1_000_000);
          }
          Thread.sleep(20);
        }
        System.out.printf("%d pairs acknowledged, %d not, in %d s; streams restarted %d time(s)%n",
            acked.values().stream().mapToInt(i -> i).sum(), failed, (System.nanoTime() - t0) / 1_000_000_000, streams.restarts());
        assertTrue(streams.restarts() >= 1, "the streams process was restarted by its supervisor");

        for (String user : acked.keySet()) {
          DeletionRequest forget = DeletionRequest.newBuilder().setDeletionId("forget-" + user).setUserId(user)
              .setTimestamp(Instant.now()).setScope(DeletionScope.ALL_USER_DATA).setTargetIds(List.of()).build();
          producer.send(new ProducerRecord<>(topics.name(Topics.DELETIONS), user, MarginalSerdes.DELETION_REQUEST.serialize("", forget)))
              .get(60, TimeUnit.SECONDS);
        }
      }
      Map<String, DeletionReceipt> receipts = receipts(settings.bootstrapServers(), topics, acked.size() + 1);
      assertEquals(EARLY_PAIRS, receipts.get("forget-early").getErased().stream()
          .filter(i -> i.getStore().equals(MemoryBankTopology.BANKS_STORE)).mapToLong(ErasedItem::getCount).sum(),
          "the deletion accepted while streams was down erased the user's whole bank once streams was back");
      for (Map.Entry<String, Integer> e : acked.entrySet()) {
        DeletionReceipt r = receipts.get("forget-" + e.getKey());
        long entries = r.getErased().stream().filter(i -> i.getStore().equals(MemoryBankTopology.BANKS_STORE))
            .mapToLong(ErasedItem::getCount).sum();
        assertEquals(e.getValue().longValue(), entries, e.getKey() + ": bank entries erased = acknowledged pairs (exactly once)");
      }
      assertEquals(0, countRecords(settings.bootstrapServers(), topics.name(Topics.DEAD_LETTERS)), "nothing valid was dead-lettered");
    } finally {
      if (streams != null) {
        streams.close();
      }
      broker.close();
    }
  }

  private static void kill9(long pid) throws Exception {
    ProcessHandle p = ProcessHandle.of(pid).orElseThrow();
    assertTrue(p.destroyForcibly());
    p.onExit().get(30, TimeUnit.SECONDS);
  }

  private static Interaction interaction(String user, String id) {
    return Interaction.newBuilder().setInteractionId(id).setUserId(user).setTimestamp(Instant.now()).setNodeId("kill-nine")
        .setModel("marginal-demo").setPrompt("how do I reset my pin " + id).setResponse("Open the app.")
        .setCandidates(List.of(new Candidate("Open the app.", 0.7), new Candidate("Call us.", 0.3)))
        .setInstanceEmbedding(List.of(0.6f, 0.8f, 0f, 0f)).setAdapterVersions(List.of()).build();
  }

  private static Feedback preferred(String user, String id) {
    return Feedback.newBuilder().setFeedbackId("fb-" + id).setUserId(user).setInteractionId(id).setTimestamp(Instant.now())
        .setKind(FeedbackKind.PREFERRED_RESPONSE).setPreferredResponse("Call us.").build();
  }

  private static Map<String, DeletionReceipt> receipts(String bootstrap, Topics topics, int expected) {
    Map<String, DeletionReceipt> out = new HashMap<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap)) {
      consumer.subscribe(List.of(topics.name(Topics.DELETION_RECEIPTS)));
      while (out.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          DeletionReceipt receipt = MarginalSerdes.DELETION_RECEIPT.deserialize("", r.value());
          out.put(receipt.getDeletionId(), receipt);
        }
      }
    }
    assertEquals(expected, out.size(), "receipts: " + out.keySet());
    return out;
  }

  private static int countRecords(String bootstrap, String topic) {
    List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
      }
    }
    return seen.size();
  }

  private static KafkaConsumer<String, byte[]> consumer(String bootstrap) {
    return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "kill-nine-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000, ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }
}
