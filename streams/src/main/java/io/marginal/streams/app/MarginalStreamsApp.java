package io.marginal.streams.app;

import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.streams.topology.MemoryBankTopology;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The streams service: provisions topics, builds the topology, runs it until stopped. */
public final class MarginalStreamsApp implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MarginalStreamsApp.class);

  private final StreamsAppConfig config;
  private final KafkaStreams streams;
  private final String deadLetterOwner;

  private MarginalStreamsApp(StreamsAppConfig config, KafkaStreams streams, String deadLetterOwner) {
    this.deadLetterOwner = deadLetterOwner;
    this.config = config;
    this.streams = streams;
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
    streams.start();
    LOG.info("streams app {} started against {}", config.applicationId(), config.bootstrapServers());
    return new MarginalStreamsApp(config, streams, deadLetterOwner);
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
    streams.close(Duration.ofSeconds(30));
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
