package io.marginal.ops;

import io.marginal.kafka.embedded.BrokerProcess;
import io.marginal.kafka.embedded.BrokerSettings;
import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import java.time.Duration;

/** The Kafka the launcher talks to: an embedded broker it owns (in-process or child JVM) or an external cluster. */
final class KafkaRuntime implements AutoCloseable {

  private final String bootstrapServers;
  private final AutoCloseable owned;

  private KafkaRuntime(String bootstrapServers, AutoCloseable owned) {
    this.bootstrapServers = bootstrapServers;
    this.owned = owned;
  }

  static KafkaRuntime start(LauncherConfig config) {
    if (!config.embeddedBroker()) {
      return new KafkaRuntime(config.bootstrapServers(), null);
    }
    BrokerSettings settings = new BrokerSettings(config.dataDir().resolve("kafka").resolve("data"), config.brokerPort(), 0);
    if (config.brokerAsProcess()) {
      BrokerProcess process = BrokerProcess.start(settings, config.dataDir().resolve("kafka").resolve("broker.log"), Duration.ofSeconds(90));
      return new KafkaRuntime(process.bootstrapServers(), process);
    }
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(settings, false);
    return new KafkaRuntime(broker.bootstrapServers(), broker);
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public void close() throws Exception {
    if (owned != null) {
      owned.close();
    }
  }
}
