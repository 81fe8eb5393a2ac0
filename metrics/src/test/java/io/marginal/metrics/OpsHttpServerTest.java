package io.marginal.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class OpsHttpServerTest {

  @Test
  void servesParsableMetricsWithJvmMetersAndReadiness() throws Exception {
    AtomicReference<Optional<String>> notReady = new AtomicReference<>(Optional.of("still restoring"));
    try (ServiceMetrics metrics = ServiceMetrics.create();
         OpsHttpServer server = OpsHttpServer.start("test", 0, metrics, notReady::get)) {
      Counter jobs = Counter.builder("marginal.test.jobs").description("Jobs.").tag("outcome", "ok").register(metrics.registry());
      Timer took = Timer.builder("marginal.test.job.duration").serviceLevelObjectives(Duration.ofMillis(10), Duration.ofSeconds(1))
          .register(metrics.registry());
      URI base = URI.create("http://localhost:" + server.port());

      PrometheusText before = PrometheusText.scrape(base.resolve("/metrics"), null);
      assertEquals(0.0, before.value("marginal_test_jobs_total", "outcome", "ok"));
      assertTrue(before.value("jvm_memory_used_bytes", "area", "heap", "id", before.samplesNamed("jvm_memory_used_bytes").stream()
          .filter(s -> s.labels().get("area").equals("heap")).findFirst().orElseThrow().labels().get("id")) > 0);
      assertTrue(before.value("process_uptime_seconds") > 0);
      assertTrue(before.value("jvm_threads_live_threads") > 0);
      assertTrue(before.find("system_cpu_count").isPresent());
      assertEquals("counter", before.family("jvm_gc_memory_allocated_bytes_total").type());

      jobs.increment();
      took.record(Duration.ofMillis(200));
      PrometheusText after = PrometheusText.scrape(base.resolve("/metrics"), null);
      assertEquals(1.0, after.value("marginal_test_jobs_total", "outcome", "ok"));
      assertEquals("histogram", after.family("marginal_test_job_duration_seconds").type());
      assertEquals(0.0, after.value("marginal_test_job_duration_seconds_bucket", "le", "0.01"));
      assertEquals(1.0, after.value("marginal_test_job_duration_seconds_bucket", "le", "1.0"));
      assertEquals(1.0, after.value("marginal_test_job_duration_seconds_count"));
      assertEquals(0.2, after.value("marginal_test_job_duration_seconds_sum"), 1e-9);

      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(base.resolve("/ready")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(503, ready.statusCode());
      assertEquals("still restoring\n", ready.body());
      notReady.set(Optional.empty());
      assertEquals(200, http.send(HttpRequest.newBuilder(base.resolve("/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(200, http.send(HttpRequest.newBuilder(base.resolve("/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(404, http.send(HttpRequest.newBuilder(base.resolve("/metricsx")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }
  }
}
