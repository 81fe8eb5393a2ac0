package io.marginal.streams.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.metrics.PrometheusText;
import io.marginal.schemas.ReceiptStatus;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.topology.TopologyFixture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/**
 * The streams app's operator endpoint against a real broker: {@code /ready} follows the Kafka
 * Streams state, and {@code /metrics} is valid Prometheus text whose Kafka Streams counters move
 * when records are processed.
 */
class StreamsMetricsIT {

  @Test
  void metricsParseAndCountProcessedRecords() throws Exception {
    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
      StreamsAppConfig config = StreamsAppConfig.defaults().withBootstrapServers(kafka.bootstrapServers())
          .withState("streams-metrics-it", Files.createTempDirectory("streams-metrics-it")).withBank(TopologyFixture.SETTINGS)
          .withHttpPort(0);
      Topics topics = config.topics();
      TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), topics);
      try (KafkaProducer<String, byte[]> producer = AppTraffic.producer(kafka.bootstrapServers());
           MarginalStreamsApp app = MarginalStreamsApp.start(config)) {
        URI base = URI.create("http://localhost:" + app.httpPort());
        app.awaitRunning(Duration.ofSeconds(60));
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/ready")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());

        PrometheusText before = PrometheusText.scrape(base.resolve("/metrics"), null);
        String processed = "kafka_stream_thread_process_total";
        assertEquals("counter", before.family(processed).type());
        assertTrue(before.value("jvm_threads_live_threads") > 0);
        assertTrue(before.value("process_uptime_seconds") > 0);

        AppTraffic.deletion(producer, topics, "alice", "del-metrics-1");
        assertEquals(ReceiptStatus.COMPLETED, AppTraffic.awaitReceipt(kafka.bootstrapServers(), topics, "del-metrics-1").getStatus());
        PrometheusText after = PrometheusText.scrape(base.resolve("/metrics"), null);
        assertTrue(after.sum(processed) >= before.sum(processed) + 1,
            "processed " + before.sum(processed) + " -> " + after.sum(processed) + ": " + after.samplesNamed(processed));
      }
    }
  }
}
