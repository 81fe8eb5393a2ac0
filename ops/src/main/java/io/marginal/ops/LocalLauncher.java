package io.marginal.ops;

import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.TopicSettings;
import io.marginal.schemas.topics.TopicSpec;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.MarginalStreamsApp;
import io.marginal.streams.app.StreamsAppConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the whole system on one machine: a real KRaft Kafka broker (unless told to use an
 * existing cluster), every topic, then the services. Stops cleanly, in reverse order, on Ctrl-C.
 */
public final class LocalLauncher {

  private static final Logger LOG = LoggerFactory.getLogger(LocalLauncher.class);

  private final LauncherConfig config;
  private final Deque<AutoCloseable> started = new ArrayDeque<>();

  LocalLauncher(LauncherConfig config) {
    this.config = config;
  }

  public static void main(String[] args) throws Exception {
    LauncherConfig config;
    try {
      config = LauncherConfig.parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    LocalLauncher launcher = new LocalLauncher(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("Stopping Marginal ...");
      launcher.stop();
      System.out.println("Marginal stopped.");
      stopped.countDown();
    }, "marginal-shutdown"));
    launcher.start();
    System.out.println("Marginal is running. Press Ctrl-C to stop.");
    stopped.await();
  }

  /** Starts Kafka, creates the topics and starts the services; returns the bootstrap servers. */
  String start() throws IOException {
    LOG.info("Starting Marginal: {}", config);
    if (config.fresh()) {
      deleteRecursively(config.dataDir());
    }
    Files.createDirectories(config.dataDir());
    long t0 = System.nanoTime();
    KafkaRuntime kafka = KafkaRuntime.start(config);
    started.push(kafka);
    Topics topics = new Topics(TopicSettings.from(System.getenv()));
    TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), topics);
    System.out.printf("Kafka listening on %s (ready in %d ms)%n", kafka.bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
    for (TopicSpec spec : topics.all()) {
      System.out.printf("  topic %-36s partitions=%d %s%n", spec.name(), spec.partitions(),
          spec.compacted() ? "compacted" : "retention=" + spec.configs().get("retention.ms") + "ms");
    }
    Map<String, String> env = serviceEnvironment(kafka.bootstrapServers());
    startStreams(env);
    return kafka.bootstrapServers();
  }

  /**
   * The settings every service gets: the operator's environment, with the launcher's Kafka and
   * data directory filled in where the operator did not set them.
   */
  Map<String, String> serviceEnvironment(String bootstrapServers) {
    Map<String, String> env = new java.util.HashMap<>(System.getenv());
    env.put("MARGINAL_BOOTSTRAP_SERVERS", bootstrapServers);
    Path data = config.dataDir().toAbsolutePath();
    env.putIfAbsent("MARGINAL_STREAMS_STATE_DIR", data.resolve("streams").toString());
    env.putIfAbsent("MARGINAL_ADAPTER_STORE", data.resolve("adapters").toString());
    env.putIfAbsent("MARGINAL_TRAINER_WORK_DIR", data.resolve("trainer-work").toString());
    return env;
  }

  private void startStreams(Map<String, String> env) {
    long t0 = System.nanoTime();
    StreamsAppConfig streamsConfig = StreamsAppConfig.from(env);
    MarginalStreamsApp streams = MarginalStreamsApp.start(streamsConfig);
    started.push(streams);
    streams.awaitRunning(java.time.Duration.ofSeconds(120));
    System.out.printf("Streams app %s running (state in %s, ready in %d ms)%n", streamsConfig.applicationId(),
        env.get("MARGINAL_STREAMS_STATE_DIR"), (System.nanoTime() - t0) / 1_000_000);
  }

  void stop() {
    while (!started.isEmpty()) {
      AutoCloseable service = started.pop();
      try {
        service.close();
      } catch (Exception e) {
        LOG.warn("error while stopping {}: {}", service.getClass().getSimpleName(), e.getMessage());
      }
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
