package io.marginal.trainer.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.metrics.OpsHttpServer;
import io.marginal.metrics.PrometheusText;
import io.marginal.metrics.ServiceMetrics;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import io.marginal.trainer.config.TrainerConfig;
import io.marginal.trainer.job.UnlearningJob;
import io.marginal.trainer.job.UnlearningOutcome;
import io.marginal.trainer.store.DirectoryAdapterStore;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's delivery contract on a real broker: publish after storing, commit after publishing,
 * idempotent on redelivery, refusals and unreadable records visible with their reasons. The job
 * here writes fixed bytes; training itself is covered by the unlearning tests.
 */
class TrainerNodeIT {

  private static EmbeddedKafkaBroker kafka;
  private static final Topics TOPICS = Topics.defaults();

  @TempDir
  Path tmp;

  @BeforeAll
  static void startBroker() {
    kafka = EmbeddedKafkaBroker.startTemporary();
    TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), TOPICS);
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  /** Writes a small weights file and counts how often it trained. */
  static final class CountingJob implements UnlearningJob {
    final AtomicInteger runs = new AtomicInteger();

    @Override
    public UnlearningOutcome run(UnlearningRequest request, java.util.Optional<io.marginal.trainer.store.StoredAdapter> previous, Path workDir,
                                 io.marginal.trainer.job.ProgressListener progress) {
      runs.incrementAndGet();
      try {
        Files.writeString(workDir.resolve("adapter_model.safetensors"), "weights for " + request.getRequestId());
        Files.writeString(workDir.resolve("adapter_config.json"), "{}");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return UnlearningOutcome.passed(workDir, Map.of("forget_mention_rate", 0.0));
    }
  }

  @Test
  void requestBecomesAStoredPublishedAdapterOnceAndBadRequestsAreRefusedWithReasons() throws Exception {
    TrainerConfig config = TrainerConfig.fromEnvironment(Map.of(
        "MARGINAL_ADAPTER_STORE", tmp.resolve("store").toString(),
        "MARGINAL_TRAINER_WORK_DIR", tmp.resolve("work").toString())).withBootstrapServers(kafka.bootstrapServers());
    DirectoryAdapterStore store = new DirectoryAdapterStore(config.adapterStore());
    CountingJob job = new CountingJob();
    UnlearningRequest good = RequestValidatorTest.request().setRequestId("req-good").setSourceDeletionId("del-1").build();
    UnlearningRequest empty = RequestValidatorTest.request().setRequestId("req-empty").setSourceDeletionId("del-2")
        .setForgetExamples(List.of()).build();
    String topic = TOPICS.name(Topics.UNLEARNING_REQUESTS);

    try (ServiceMetrics metrics = ServiceMetrics.create();
         TrainerNode node = new TrainerNode(config, store, job, metrics.registry());
         OpsHttpServer ops = OpsHttpServer.start("trainer", 0, metrics, node::notReady);
         KafkaProducer<String, byte[]> producer = producer()) {
      URI opsBase = URI.create("http://localhost:" + ops.port());
      assertEquals(503, get(opsBase.resolve("/ready")).statusCode(), "not ready before its loop runs");
      PrometheusText before = PrometheusText.scrape(opsBase.resolve("/metrics"), null);
      assertEquals(0.0, before.value("marginal_trainer_requests_total", "outcome", "published"));
      assertEquals(0.0, before.value("marginal_trainer_job_duration_seconds_count", "outcome", "published"));
      Thread loop = new Thread(node, "trainer-loop");
      loop.start();
      byte[] goodBytes = MarginalSerdes.UNLEARNING_REQUEST.serialize(topic, good);
      producer.send(new ProducerRecord<>(topic, "user:alice", goodBytes)).get();
      producer.send(new ProducerRecord<>(topic, "user:alice", goodBytes)).get(); // redelivered
      producer.send(new ProducerRecord<>(topic, "user:alice", MarginalSerdes.UNLEARNING_REQUEST.serialize(topic, empty))).get();
      producer.send(new ProducerRecord<>(topic, "user:alice", new byte[] {1, 2, 3})).get();
      // Declares 2^31 items: used to end the trainer JVM with OutOfMemoryError on every restart.
      producer.send(new ProducerRecord<>(topic, "user:alice",
          io.marginal.schemas.fault.PoisonRecords.hugeDeclaredLengths(goodBytes).get(0).bytes())).get();

      List<ConsumerRecord<String, byte[]>> adapters = read(TOPICS.name(Topics.ADAPTERS), 3);
      List<ConsumerRecord<String, byte[]>> receipts = read(TOPICS.name(Topics.DELETION_RECEIPTS), 3);
      List<ConsumerRecord<String, byte[]>> letters = read(TOPICS.name(Topics.DEAD_LETTERS), 2);

      assertEquals(1, job.runs.get(), "a redelivered request is not trained twice");
      assertEquals(1, store.versions("user-alice").size());

      AdapterPublished first = MarginalSerdes.ADAPTER_PUBLISHED.deserialize("a", adapters.get(0).value());
      assertEquals("user-alice@v1", adapters.get(0).key(), "each version keyed apart: compaction keeps the history");
      assertEquals(AdapterStatus.PUBLISHED, first.getStatus());
      assertEquals(1, first.getVersion());
      assertEquals(store.latest("user-alice").orElseThrow().sha256(), first.getSha256());
      assertTrue(Files.exists(Path.of(java.net.URI.create(first.getUri())).resolve("adapter_model.safetensors")));
      assertEquals(0.0, first.getMetrics().get("forget_mention_rate"));

      AdapterPublished again = MarginalSerdes.ADAPTER_PUBLISHED.deserialize("a", adapters.get(1).value());
      assertEquals(first.getSha256(), again.getSha256());
      assertEquals(1, again.getVersion());

      AdapterPublished refused = MarginalSerdes.ADAPTER_PUBLISHED.deserialize("a", adapters.get(2).value());
      assertEquals("user-alice/failed/req-empty", adapters.get(2).key(), "failures never replace the served version under compaction");
      assertEquals(AdapterStatus.FAILED, refused.getStatus());
      assertTrue(refused.getFailureReason().startsWith("empty forget set"), refused.getFailureReason());

      DeletionReceipt covered = MarginalSerdes.DELETION_RECEIPT.deserialize("r", receipts.get(0).value());
      assertEquals("del-1", covered.getDeletionId());
      assertEquals(ReceiptStatus.UNLEARNED, covered.getStatus());
      assertEquals("user-alice@1", covered.getCoveringAdapter());
      DeletionReceipt rejected = MarginalSerdes.DELETION_RECEIPT.deserialize("r", receipts.get(2).value());
      assertEquals("del-2", rejected.getDeletionId());
      assertEquals(ReceiptStatus.REJECTED, rejected.getStatus());

      DeadLetter letter = MarginalSerdes.DEAD_LETTER.deserialize("d", letters.get(0).value());
      assertEquals(topic, letter.getSourceTopic());
      assertTrue(letter.getReason().contains("not a readable UnlearningRequest"), letter.getReason());
      DeadLetter huge = MarginalSerdes.DEAD_LETTER.deserialize("d", letters.get(1).value());
      assertTrue(huge.getReason().contains("SystemLimitException"), huge.getReason());
      assertTrue(loop.isAlive(), "the trainer loop survives a record declaring 2^31 items");

      // /metrics tells the same story: one job trained and published, one redelivery, one refusal, two unreadable records
      PrometheusText after = PrometheusText.scrape(opsBase.resolve("/metrics"), null);
      assertEquals(1.0, after.value("marginal_trainer_requests_total", "outcome", "published"));
      assertEquals(1.0, after.value("marginal_trainer_requests_total", "outcome", "redelivered"));
      assertEquals(1.0, after.value("marginal_trainer_requests_total", "outcome", "refused"));
      assertEquals(2.0, after.value("marginal_trainer_requests_total", "outcome", "unreadable"));
      assertEquals(0.0, after.value("marginal_trainer_requests_total", "outcome", "failed"));
      assertEquals("histogram", after.family("marginal_trainer_job_duration_seconds").type());
      assertEquals(1.0, after.value("marginal_trainer_job_duration_seconds_count", "outcome", "published"));
      assertEquals(1.0, after.value("marginal_trainer_job_duration_seconds_bucket", "outcome", "published", "le", "+Inf"));
      assertEquals(0.0, after.value("marginal_trainer_job_running"));
      assertTrue(after.sum("kafka_consumer_fetch_manager_records_consumed_total") >= 5,
          "consumer metrics: " + after.samplesNamed("kafka_consumer_fetch_manager_records_consumed_total"));
      assertTrue(after.sum("kafka_producer_record_send_total") >= 3,
          "producer metrics: " + after.samplesNamed("kafka_producer_record_send_total"));
      assertTrue(after.value("jvm_threads_live_threads") > 0);
      assertEquals(200, get(opsBase.resolve("/ready")).statusCode());
    }

    // Every offset was committed: a new member of the group finds nothing left to do.
    CountingJob second = new CountingJob();
    try (TrainerNode node = new TrainerNode(config, store, second)) {
      Thread loop = new Thread(node, "trainer-loop-2");
      loop.start();
      await("nothing left to train").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> second.runs.get() == 0);
    }
    assertEquals(0, second.runs.get());
  }

  private static java.net.http.HttpResponse<String> get(URI uri) throws Exception {
    return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(uri).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
  }

  private static KafkaProducer<String, byte[]> producer() {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }

  private static List<ConsumerRecord<String, byte[]>> read(String topic, int count) {
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    records.sort(java.util.Comparator.comparingLong(ConsumerRecord::timestamp));
    return records;
  }
}
