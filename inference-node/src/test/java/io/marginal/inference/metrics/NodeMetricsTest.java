package io.marginal.inference.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.metrics.PrometheusText;
import io.marginal.metrics.ServiceMetrics;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class NodeMetricsTest {

  @Test
  void rendersPrometheusNamesUnitsAndHistograms() {
    try (ServiceMetrics service = ServiceMetrics.create()) {
      NodeMetrics metrics = new NodeMetrics(service);
      AtomicLong hits = new AtomicLong(3);
      metrics.gauge("marginal.worker.queue.depth", null, "Waiting.", () -> 2);
      metrics.gauge("marginal.user.adapter.cache", "bytes", "Bytes.", () -> 1024);
      metrics.counter("marginal.user.adapter.cache.hits", "Hits.", hits, AtomicLong::get);
      metrics.timer("marginal.user.adapter.cache.miss.wait", "Waits.", hits, h -> 2L, h -> 3e9);

      metrics.request("/v1/chat/completions", 200);
      metrics.request("/v1/chat/completions", 200);
      metrics.request("/metrics", 401);
      metrics.chatLatency(0.3);
      metrics.firstToken(40_000_000L);
      metrics.interTokenGap(3_000_000L);
      metrics.interTokenGap(20_000_000L);
      metrics.generated(12, 0.5);
      metrics.adapterActivated("shared-films", "shared:films", 2, 30);
      metrics.adapterActivated("user-alice", "user:alice", 1, 10);
      metrics.adapterRejected("user-bob", "user:bob");
      metrics.adapterRejected("shared-films", "shared:films");
      metrics.queueFull();

      PrometheusText text = PrometheusText.parse(metrics.scrape());
      assertEquals(2.0, text.value("marginal_http_requests_total", "route", "/v1/chat/completions", "status", "200"));
      assertEquals(1.0, text.value("marginal_http_requests_total", "route", "/metrics", "status", "401"));
      assertEquals("histogram", text.family("marginal_chat_request_duration_seconds").type());
      assertEquals(1.0, text.value("marginal_chat_request_duration_seconds_bucket", "le", "0.5"));
      assertEquals(0.0, text.value("marginal_chat_request_duration_seconds_bucket", "le", "0.25"));
      assertEquals("histogram", text.family("marginal_time_to_first_token_seconds").type());
      assertEquals(1.0, text.value("marginal_time_to_first_token_seconds_bucket", "le", "0.05"));
      assertEquals(0.04, text.value("marginal_time_to_first_token_seconds_sum"), 1e-9);
      assertEquals(2.0, text.value("marginal_inter_token_latency_seconds_count"));
      assertEquals(1.0, text.value("marginal_inter_token_latency_seconds_bucket", "le", "0.005"));
      assertEquals(2.0, text.value("marginal_inter_token_latency_seconds_bucket", "le", "0.025"));
      assertEquals(12.0, text.value("marginal_generated_tokens_total"));
      assertEquals(0.5, text.value("marginal_generation_seconds_total"), 1e-9);
      assertEquals(1.0, text.value("marginal_requests_rejected_queue_full_total"));
      assertEquals(0.0, text.value("marginal_requests_timed_out_total"));
      assertEquals(2.0, text.value("marginal_adapter_active_version", "adapter_id", "shared-films", "scope", "shared:films"));
      assertEquals(1.0, text.value("marginal_adapter_rejected_total", "scope", "user"));
      assertEquals(1.0, text.value("marginal_adapter_rejected_total", "adapter_id", "shared-films", "scope", "shared"));
      assertEquals(2.0, text.value("marginal_adapter_swap_seconds_count"));
      assertEquals(0.01, text.value("marginal_adapter_last_swap_seconds"), 1e-9);
      assertEquals(2.0, text.value("marginal_worker_queue_depth"));
      assertEquals(1024.0, text.value("marginal_user_adapter_cache_bytes"));
      assertEquals(3.0, text.value("marginal_user_adapter_cache_hits_total"));
      assertEquals(2.0, text.value("marginal_user_adapter_cache_miss_wait_seconds_count"));
      assertEquals(3.0, text.value("marginal_user_adapter_cache_miss_wait_seconds_sum"), 1e-9);
      assertTrue(text.value("jvm_memory_used_bytes", "area", "heap", "id", text.samplesNamed("jvm_memory_used_bytes").get(0)
          .labels().get("id")) >= 0);
      assertTrue(text.value("process_uptime_seconds") > 0);
      // per-user adapters: counted, never named
      assertFalse(text.samples().stream().anyMatch(s -> s.labels().values().stream().anyMatch(v -> v.contains("alice") || v.contains("bob"))));

      metrics.adapterRetired("shared-films");
      assertTrue(PrometheusText.parse(metrics.scrape()).find("marginal_adapter_active_version").isEmpty());
    }
  }
}
