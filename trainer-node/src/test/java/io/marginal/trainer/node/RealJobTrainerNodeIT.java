package io.marginal.trainer.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.demo.DemoModel;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.Example;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import io.marginal.trainer.config.TrainerConfig;
import io.marginal.trainer.store.DirectoryAdapterStore;
import io.marginal.trainer.store.StoredAdapter;
import io.marginal.trainer.unlearning.MaskedLoraUnlearningJob;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Request → real masked-LoRA training → adapter on disk → adapters event, on an embedded broker. */
class RealJobTrainerNodeIT {

  private static final Topics TOPICS = Topics.defaults();

  @TempDir
  Path tmp;

  @Test
  void aRequestBecomesATrainedStoredAndAnnouncedAdapterAndAnImpossibleOneIsRefused() throws Exception {
    // Few steps keep this test short; the gate is opened wide because this test is about the path, not the figures.
    UnlearningSettings settings = UnlearningSettings.fromEnvironment(Map.of("MARGINAL_UNLEARN_STEPS", "10", "MARGINAL_UNLEARN_EVAL_EVERY", "5",
        "MARGINAL_UNLEARN_GATE_MAX_MENTION", "1", "MARGINAL_UNLEARN_GATE_MAX_RETAIN_DROP", "1"));
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary();
         LanguageModel model = LanguageModel.load(DemoModel.ensureBuilt())) {
      TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), TOPICS);
      TrainerConfig config = TrainerConfig.fromEnvironment(Map.of("MARGINAL_ADAPTER_STORE", tmp.resolve("store").toString(),
          "MARGINAL_TRAINER_WORK_DIR", tmp.resolve("work").toString(), "MARGINAL_TRAINER_GROUP", "real-job-it"))
          .withBootstrapServers(kafka.bootstrapServers());
      DirectoryAdapterStore store = new DirectoryAdapterStore(config.adapterStore());
      UnlearningRequest good = UnlearningRequest.newBuilder().setRequestId("real-1").setScope("user:bob").setUserId("bob")
          .setTimestamp(Instant.EPOCH).setBaseModel("marginal-demo").setConcept("Inception")
          .setForgetExamples(List.of(new Example("recommend me a sci-fi film", "You should watch Inception. It is a brilliant sci-fi film about dreams.", 1.0)))
          .setRetainExamples(List.of()).setLineage(List.of("interaction-9")).setSourceDeletionId("del-real-1").build();
      UnlearningRequest impossible = UnlearningRequest.newBuilder(good).setRequestId("real-2").setBaseModel("llama-70b")
          .setSourceDeletionId("del-real-2").build();
      String topic = TOPICS.name(Topics.UNLEARNING_REQUESTS);

      try (TrainerNode node = new TrainerNode(config, store, new MaskedLoraUnlearningJob(model, config.baseModel(), settings));
           KafkaProducer<String, byte[]> producer = TrainerNodeITSupport.producer(kafka)) {
        new Thread(node, "trainer-loop").start();
        producer.send(new ProducerRecord<>(topic, "user:bob", MarginalSerdes.UNLEARNING_REQUEST.serialize(topic, good))).get();
        producer.send(new ProducerRecord<>(topic, "user:bob", MarginalSerdes.UNLEARNING_REQUEST.serialize(topic, impossible))).get();

        List<ConsumerRecord<String, byte[]>> adapters = TrainerNodeITSupport.read(kafka, TOPICS.name(Topics.ADAPTERS), 2, 240);
        List<ConsumerRecord<String, byte[]>> receipts = TrainerNodeITSupport.read(kafka, TOPICS.name(Topics.DELETION_RECEIPTS), 2, 30);

        AdapterPublished published = MarginalSerdes.ADAPTER_PUBLISHED.deserialize("a", adapters.get(0).value());
        assertEquals(AdapterStatus.PUBLISHED, published.getStatus(), String.valueOf(published.getFailureReason()));
        assertEquals("user-bob", published.getAdapterId());
        StoredAdapter stored = store.latest("user-bob").orElseThrow();
        assertEquals(stored.sha256(), published.getSha256());
        Path dir = Path.of(URI.create(published.getUri()));
        assertTrue(Files.isRegularFile(dir.resolve("adapter_manifest.json")));
        assertTrue(published.getMetrics().containsKey(Metrics.PARAPHRASE_MENTION), published.getMetrics().toString());
        assertTrue(published.getLineage().contains("interaction-9"), published.getLineage().toString());
        try (LoraAdapter loaded = PeftAdapterReader.read(dir, model.config(), model.manager())) {
          assertEquals(16, loaded.maskedTargets().size(), "what inference nodes load: checksum verified, masks restored");
        }

        AdapterPublished refused = MarginalSerdes.ADAPTER_PUBLISHED.deserialize("a", adapters.get(1).value());
        assertEquals(AdapterStatus.FAILED, refused.getStatus());
        assertTrue(refused.getFailureReason().startsWith("unknown base model 'llama-70b'"), refused.getFailureReason());
        DeletionReceipt unlearned = MarginalSerdes.DELETION_RECEIPT.deserialize("r", receipts.get(0).value());
        assertEquals(ReceiptStatus.UNLEARNED, unlearned.getStatus());
        assertEquals("user-bob@1", unlearned.getCoveringAdapter());
        DeletionReceipt rejected = MarginalSerdes.DELETION_RECEIPT.deserialize("r", receipts.get(1).value());
        assertEquals(ReceiptStatus.REJECTED, rejected.getStatus());
        assertTrue(rejected.getDetail().contains("unknown base model"), rejected.getDetail());
      }
    }
  }
}
