package io.marginal.streams.app;

import picocli.CommandLine.Mixin;
import io.marginal.config.ServiceConfigOptions;
import io.marginal.metrics.OpsHttpServer;
import io.marginal.metrics.ServiceMetrics;
import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.config.Cli;
import io.marginal.config.Settings;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.streams.topology.MemoryBankTopology;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

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

  public static void main(String[] args) {
    TrustedPackages.allowMarginalClasses();
    Cli.run(new Main(), args);
  }

  /** The streams service's command line: configuration comes from the environment; the options only point at a file or check it. */
  @Command(name = "MarginalStreamsApp", description = {"Joins feedback to interactions into per-user memory banks, applies deletions,",
      "and publishes bank updates, receipts and unlearning requests (exactly-once)."},
      footer = {"", "Configured by MARGINAL_* environment variables or system properties of the same name", "(streams/README.md), e.g.",
          "  MARGINAL_BOOTSTRAP_SERVERS (localhost:9092)  MARGINAL_STREAMS_APPLICATION_ID (marginal-streams)",
          "  MARGINAL_STREAMS_STATE_DIR (<tmp>/marginal-streams)  MARGINAL_STREAMS_THREADS (1)",
          "  MARGINAL_STREAMS_STANDBY_REPLICAS (0)  MARGINAL_STREAMS_COMMIT_INTERVAL (PT0.1S)",
          "  MARGINAL_STREAMS_FEEDBACK_WINDOW (PT5M)  MARGINAL_STREAMS_MAX_ENTRIES_PER_USER (256)  MARGINAL_TOPIC_* (topics)"})
  static final class Main implements Callable<Integer> {
    @Mixin
    ServiceConfigOptions options;

    @Override
    public Integer call() throws InterruptedException {
      StreamsAppConfig config = StreamsAppConfig.from(
          options.settings(Settings.environmentAndSystemProperties(), StreamsAppConfig.CONFIG_FILE_KEY));
      if (options.printConfig()) {
        System.out.println(config.describe());
        return 0;
      }
      run(config);
      return 0;
    }
  }

  private static void run(StreamsAppConfig config) throws InterruptedException {
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
