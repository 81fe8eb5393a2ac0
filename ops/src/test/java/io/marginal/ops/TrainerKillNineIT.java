package io.marginal.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * kill -9 of the real trainer process in the middle of a training job, and a second request sent
 * while it is down. The supervisor restarts it, it takes its partition back at once (static group
 * membership) and resumes from the last committed request: the first request ends with exactly one
 * published version, and the one sent during the downtime is trained too.
 */
class TrainerKillNineIT {

  @Test
  void aTrainerKilledMidJobPublishesExactlyOneVersionAndCatchesUpOnRequestsSentWhileDown() throws Exception {
    Path dir = Files.createTempDirectory("trainer-kill-it");
    Topics topics = Topics.defaults();
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
      TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), topics);
      Map<String, String> env = new HashMap<>();
      env.put("MARGINAL_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
      env.put("MARGINAL_NODE_ID", "kill-it-trainer");
      env.put("MARGINAL_ADAPTER_STORE", dir.resolve("adapters").toString());
      env.put("MARGINAL_TRAINER_WORK_DIR", dir.resolve("work").toString());
      env.put("MARGINAL_TRAINER_HEAP", "1g");
      env.put("MARGINAL_TRAINER_HTTP_PORT", "0"); // any free port: other runs may hold the default
      // A short job whose gate is wide open: this test is about the process, not the figures.
      env.put("MARGINAL_UNLEARN_STEPS", "40");
      env.put("MARGINAL_UNLEARN_EVAL_EVERY", "20");
      env.put("MARGINAL_UNLEARN_GATE_MAX_MENTION", "1");
      env.put("MARGINAL_UNLEARN_GATE_MAX_RETAIN_DROP", "1");
      Path log = dir.resolve("trainer.log");
      String topic = topics.name(Topics.UNLEARNING_REQUESTS);
      try (SupervisedProcess trainer = TrainerProcess.start(env, log, Duration.ofSeconds(180));
           KafkaProducer<String, byte[]> producer = producer(kafka.bootstrapServers())) {
        producer.send(new ProducerRecord<>(topic, "user:bob", MarginalSerdes.UNLEARNING_REQUEST.serialize(topic, request("kill-1", "bob"))))
            .get(30, TimeUnit.SECONDS);
        awaitLogLine(log, "request kill-1: training", Duration.ofSeconds(120));
        long first = trainer.pid();
        ProcessHandle victim = ProcessHandle.of(first).orElseThrow();
        assertTrue(victim.destroyForcibly());
        victim.onExit().get(30, TimeUnit.SECONDS);
        producer.send(new ProducerRecord<>(topic, "user:carol", MarginalSerdes.UNLEARNING_REQUEST.serialize(topic, request("kill-2", "carol"))))
            .get(30, TimeUnit.SECONDS);
        long killedAt = System.nanoTime();

        List<AdapterPublished> published = awaitPublished(kafka.bootstrapServers(), topics, Set.of("kill-1", "kill-2"), Duration.ofSeconds(240));
        System.out.printf("trainer killed mid-job; restarted %d time(s); both requests published %d s after the kill%n",
            trainer.restarts(), (System.nanoTime() - killedAt) / 1_000_000_000);
        assertEquals(1, trainer.restarts());
        Set<Integer> bobVersions = new TreeSet<>();
        published.stream().filter(a -> a.getRequestId().equals("kill-1")).forEach(a -> bobVersions.add(a.getVersion()));
        assertEquals(Set.of(1), bobVersions, "exactly one published version for the interrupted request");
        try (Stream<Path> versions = Files.list(dir.resolve("adapters").resolve("user-bob"))) {
          assertEquals(1, versions.count(), "one stored version of user-bob");
        }
        assertTrue(published.stream().anyMatch(a -> a.getRequestId().equals("kill-2") && a.getStatus() == AdapterStatus.PUBLISHED),
            "the request sent while the trainer was down was trained");
      }
    }
  }

  private static UnlearningRequest request(String id, String user) {
    return UnlearningRequest.newBuilder().setRequestId(id).setScope("user:" + user).setUserId(user)
        .setTimestamp(Instant.now()).setBaseModel("marginal-demo").setConcept("Inception")
        .setForgetExamples(List.of(new Example("recommend me a sci-fi film",
            "You should watch Inception. It is a brilliant sci-fi film about dreams.", 1.0)))
        .setRetainExamples(List.of()).setLineage(List.of("interaction-" + id)).build();
  }

  private static void awaitLogLine(Path log, String line, Duration timeout) throws Exception {
    try {
      await().atMost(timeout).pollInterval(Duration.ofMillis(100))
          .until(() -> Files.exists(log) && Files.readString(log).contains(line));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("the trainer never logged '" + line + "':\n" + Files.readString(log), e);
    }
  }

  private static List<AdapterPublished> awaitPublished(String bootstrap, Topics topics, Set<String> requests, Duration timeout) {
    List<AdapterPublished> seen = new ArrayList<>();
    Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, "kill-it-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    long deadline = System.nanoTime() + timeout.toNanos();
    long settleUntil = Long.MAX_VALUE;
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topics.name(Topics.ADAPTERS)));
      while (System.nanoTime() < Math.min(deadline, settleUntil)) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          seen.add(MarginalSerdes.ADAPTER_PUBLISHED.deserialize("", r.value()));
        }
        boolean all = requests.stream().allMatch(id -> seen.stream().anyMatch(a -> a.getRequestId().equals(id)));
        if (all && settleUntil == Long.MAX_VALUE) {
          settleUntil = System.nanoTime() + Duration.ofSeconds(3).toNanos(); // catch a duplicate, if any
        }
      }
    }
    assertTrue(requests.stream().allMatch(id -> seen.stream().anyMatch(a -> a.getRequestId().equals(id))),
        "published: " + seen.stream().map(a -> a.getRequestId() + "@" + a.getVersion() + " " + a.getStatus()).toList());
    return seen;
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }
}
