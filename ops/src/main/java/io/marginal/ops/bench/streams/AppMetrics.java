package io.marginal.ops.bench.streams;

import org.apache.kafka.streams.KafkaStreams;

/** Figures read from a running app's client metrics. */
final class AppMetrics {

  private AppMetrics() {
  }

  /** Bytes the app's producers have sent to brokers so far (records of every output and changelog, plus protocol). */
  static double producerBytesSent(KafkaStreams streams) {
    return streams.metrics().entrySet().stream()
        .filter(e -> e.getKey().group().equals("producer-metrics") && e.getKey().name().equals("outgoing-byte-total"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
  }
}
