package io.marginal.kafka.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker (KRaft, broker and controller in one node) running inside this JVM. Used by
 * the local launcher and by integration tests; nothing about it is simulated.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.startTemporary()) {
 *   String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

  private final BrokerSettings settings;
  private final boolean deleteOnClose;
  private final Map<String, String> overrides;
  private KafkaRaftServer server;

  private EmbeddedKafkaBroker(BrokerSettings settings, boolean deleteOnClose, Map<String, String> overrides) {
    this.settings = settings;
    this.deleteOnClose = deleteOnClose;
    this.overrides = Map.copyOf(overrides);
  }

  /** A broker on free ports with a fresh temporary directory that is removed on close. */
  public static EmbeddedKafkaBroker startTemporary() {
    return startTemporary(Map.of());
  }

  /**
   * Like {@link #startTemporary()}, with broker properties overridden (e.g. a fast log cleaner for a test
   * that watches compaction happen).
   */
  public static EmbeddedKafkaBroker startTemporary(Map<String, String> overrides) {
    try {
      Path dir = Files.createTempDirectory("marginal-kafka-").resolve("data");
      EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(new BrokerSettings(dir, 0, 0), true, overrides);
      broker.startServer();
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory for the broker", e);
    }
  }

  /** A broker over {@code settings.dataDir()}; data survives restarts unless {@code deleteOnClose}. */
  public static EmbeddedKafkaBroker start(BrokerSettings settings, boolean deleteOnClose) {
    EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(settings, deleteOnClose, Map.of());
    broker.startServer();
    return broker;
  }

  private void startServer() {
    long started = System.nanoTime();
    StorageFormatter.formatIfNeeded(settings);
    java.util.Properties props = settings.toProperties();
    props.putAll(overrides);
    server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
    server.startup();
    awaitReady(Duration.ofSeconds(60));
    LOG.info("Kafka broker (KRaft, in-process) listening on {} with data in {} (ready in {} ms)",
        bootstrapServers(), settings.dataDir(), (System.nanoTime() - started) / 1_000_000);
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, Object> config = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
    try (Admin admin = Admin.create(config)) {
      while (true) {
        try {
          if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("broker on " + bootstrapServers() + " not ready after " + timeout, e);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the broker", e);
    }
  }

  public String bootstrapServers() {
    return settings.bootstrapServers();
  }

  public BrokerSettings settings() {
    return settings;
  }

  /** Stops the broker, keeping its data (a later {@link #start} over the same directory resumes). */
  public void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
      LOG.info("Kafka broker on {} stopped", bootstrapServers());
    }
  }

  @Override
  public void close() {
    stop();
    if (deleteOnClose) {
      deleteRecursively(settings.dataDir().getParent());
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("could not remove {}: {}", dir, e.getMessage());
    }
  }
}
