package io.marginal.streams.app;

import io.marginal.metrics.OpsHttpServer;
import io.marginal.metrics.ServiceMetrics;
import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.streams.topology.MemoryBankTopology;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams service: provisions topics, builds the topology, runs it until stopped, and serves
 * {@code /metrics} (Kafka Streams client metrics, JVM and process) and {@code /ready} on
 * {@link StreamsAppConfig#httpPort()}.
 */
public final class MarginalStreamsApp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MarginalStreamsApp.class);

  private final StreamsAppConfig config;
  private final KafkaStreams streams;
  private final String deadLetterOwner;
  private final ServiceMetrics metrics;
  private final OpsHttpServer ops;

  private MarginalStreamsApp(StreamsAppConfig config, KafkaStreams streams, String deadLetterOwner, ServiceMetrics metrics,
      OpsHttpServer ops) {
    this.deadLetterOwner = deadLetterOwner;
    this.config = config;
    this.streams = streams;
    this.metrics = metrics;
    this.ops = ops;
  }

  public static Topology topology(StreamsAppConfig config) {
    StreamsBuilder builder = new StreamsBuilder();
    MemoryBankTopology.build(builder, config.topics(), config);
    return builder.build(config.toStreamsProperties());
  }

  /** Ensures the topics exist, then starts Kafka Streams (returns at once; state goes to RUNNING asynchronously). */
  public static MarginalStreamsApp start(StreamsAppConfig config) {
    Map<String, Object> security = new HashMap<>(config.clientSecurity());
    TopicProvisioner.ensureTopics(config.bootstrapServers(), security, config.topics());
    java.util.Properties props = config.toStreamsProperties();
    String deadLetterOwner = config.applicationId() + "-" + java.util.UUID.randomUUID();
    props.put(io.marginal.streams.deadletter.DeadLetterDeserializationHandler.OWNER_CONFIG, deadLetterOwner);
    KafkaStreams streams = new KafkaStreams(topology(config), props);
    // A failed thread is replaced; under EOS its open transaction aborts and its task restores from the changelog.
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("stream thread failed; replacing it (uncommitted work is aborted and reprocessed)", e);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    ServiceMetrics metrics = ServiceMetrics.create();
    OpsHttpServer ops;
    try {
      metrics.bind(new KafkaStreamsMetrics(streams));
      ops = OpsHttpServer.start("streams app " + config.applicationId(), config.httpPort(), metrics, () -> notReady(streams));
    } catch (RuntimeException e) {
      metrics.close();
      streams.close(Duration.ofSeconds(5));
      throw e;
    }
    streams.start();
    LOG.info("streams app {} started against {}; /metrics and /ready on port {}", config.applicationId(), config.bootstrapServers(),
        ops.port());
    return new MarginalStreamsApp(config, streams, deadLetterOwner, metrics, ops);
  }

  /** Why this instance should not be sent work now (RUNNING and REBALANCING are ready), or empty. */
  public Optional<String> notReady() {
    return notReady(streams);
  }

  private static Optional<String> notReady(KafkaStreams streams) {
    KafkaStreams.State state = streams.state();
    return state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING ? Optional.empty()
        : Optional.of("streams app is " + state + " (feedback and deletions are not being processed)");
  }

  /** The port of {@code /metrics} and {@code /ready} (the chosen one when configured as 0). */
  public int httpPort() {
    return ops.port();
  }

  public KafkaStreams streams() {
    return streams;
  }

  public StreamsAppConfig config() {
    return config;
  }

  /** Blocks until RUNNING or the timeout passes. */
  public void awaitRunning(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (streams.state() != KafkaStreams.State.RUNNING) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("streams app " + config.applicationId() + " not RUNNING after " + timeout
            + " (state " + streams.state() + "); check that the broker at " + config.bootstrapServers() + " is reachable");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for RUNNING", e);
      }
    }
  }

  @Override
  public void close() {
    ops.close();
    streams.close(Duration.ofSeconds(30));
    metrics.close();
    io.marginal.streams.deadletter.DeadLetterDeserializationHandler.closePublisher(deadLetterOwner);
  }

  public static void main(String[] args) throws InterruptedException {
    TrustedPackages.allowMarginalClasses();
    StreamsAppConfig config = StreamsAppConfig.fromEnvironment();
    LOG.info(config.describe());
    LOG.info("topics: {} (erasure bound {} ms)", config.topics().all().stream().map(t -> t.name()).toList(),
        config.topics().userDataErasureBoundMs());
    CountDownLatch stopped = new CountDownLatch(1);
    MarginalStreamsApp app = start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close();
      stopped.countDown();
    }, "streams-shutdown"));
    stopped.await();
  }
}
