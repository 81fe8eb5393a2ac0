package io.marginal.streams.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.topology.TopologyFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * A value on the adapters topic that does not decode reaches the global adapter-lineage store
 * through restoration, which copies raw bytes past the dead-letter handler. It used to make every
 * deletion throw (a crash loop), and tombstoning the bad key put the whole client in ERROR. Now the
 * store reads it as absent: deletions get receipts, and the tombstone leaves the app running.
 */
class PoisonedAdaptersTopicIT {

  @Test
  void aBadAdapterRecordRestoredIntoTheGlobalStoreStopsNothing() throws Exception {
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
      StreamsAppConfig config = StreamsAppConfig.defaults().withBootstrapServers(kafka.bootstrapServers())
          .withState("poisoned-adapters-it", Files.createTempDirectory("poisoned-adapters-it")).withBank(TopologyFixture.SETTINGS).withHttpPort(0);
      Topics topics = config.topics();
      TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), topics);
      try (KafkaProducer<String, byte[]> producer = AppTraffic.producer(kafka.bootstrapServers())) {
        producer.send(new ProducerRecord<>(topics.name(Topics.ADAPTERS), "user-alice",
            "\u00c3\u0001 not an adapter record".getBytes(StandardCharsets.ISO_8859_1))).get();

        try (MarginalStreamsApp app = MarginalStreamsApp.start(config)) {
          app.awaitRunning(Duration.ofSeconds(60));
          AppTraffic.deletion(producer, topics, "alice", "del-1");
          assertEquals(ReceiptStatus.COMPLETED, AppTraffic.awaitReceipt(kafka.bootstrapServers(), topics, "del-1").getStatus());

          producer.send(new ProducerRecord<>(topics.name(Topics.ADAPTERS), "user-alice", null)).get();
          AppTraffic.deletion(producer, topics, "alice", "del-2");
          assertEquals(ReceiptStatus.COMPLETED, AppTraffic.awaitReceipt(kafka.bootstrapServers(), topics, "del-2").getStatus());
          assertTrue(app.streams().state() == KafkaStreams.State.RUNNING, "state after the tombstone: " + app.streams().state());
        }
      }
    }
  }
}
