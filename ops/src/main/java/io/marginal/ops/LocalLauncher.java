package io.marginal.ops;

import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.config.Settings;
import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import io.marginal.inference.InferenceNode;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoModel;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.TopicSettings;
import io.marginal.schemas.topics.TopicSpec;
import io.marginal.schemas.topics.Topics;
import io.marginal.streams.app.MarginalStreamsApp;
import io.marginal.streams.app.StreamsAppConfig;
import io.marginal.ops.demo.DemoScenario;
import java.time.Duration;
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
  private final java.util.List<InferenceNode> inferenceNodes = new java.util.ArrayList<>();
  private String bootstrapServers;
  private MarginalStreamsApp streams;
  private SupervisedProcess trainer;
  private Topics topics;

  private final Map<String, String> overrides;

  /** @param overrides service settings that win over the environment (tests pick free ports with them) */
  public LocalLauncher(LauncherConfig config, Map<String, String> overrides) {
    this.config = config;
    this.overrides = Map.copyOf(overrides);
  }

  public static void main(String[] args) {
    TrustedPackages.allowMarginalClasses();
    Cli.run(new Main(), args);
  }

  @Command(name = "LocalLauncher", description = {"Starts the whole system on one machine: a Kafka broker (unless --bootstrap-servers),",
      "every topic, the streams app, the trainer (its own JVM) and the inference nodes; then plays the demo",
      "scenario, or with --services-only waits for Ctrl-C."},
      footer = {"", "The services read their MARGINAL_* environment variables as usual (see each module's README)."})
  static final class Main implements Callable<Integer> {
    @Mixin
    LauncherConfig.Options options;

    @Override
    public Integer call() throws Exception {
      run(options.toConfig(System.getenv()));
      return 0;
    }
  }

  private static void run(LauncherConfig config) throws Exception {
    LocalLauncher launcher = new LocalLauncher(config, Map.of());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("Stopping Marginal ...");
      launcher.stop();
      System.out.println("Marginal stopped.");
      stopped.countDown();
    }, "marginal-shutdown"));
    try {
      launcher.start();
    } catch (RuntimeException | IOException e) {
      System.err.println("Marginal failed to start: " + e.getMessage());
      LOG.error("start-up failed", e);
      System.exit(1);
      return;
    }
    if (config.servicesOnly()) {
      System.out.println("Marginal is running. Press Ctrl-C to stop.");
      stopped.await();
      return;
    }
    boolean passed = launcher.playDemo(System.out);
    System.exit(passed ? 0 : 1);
  }

  /** Plays the scripted demo scenario against the running system; returns whether every check passed. */
  boolean playDemo(java.io.PrintStream out) throws InterruptedException {
    out.println();
    out.println("Playing the demo scenario (run with --services-only to skip it and keep the services up).");
    Duration unlearningTimeout = Duration.ofSeconds(Settings.environment().getLong("MARGINAL_DEMO_UNLEARNING_TIMEOUT_S", 600));
    return new DemoScenario(inference().baseUrl(), bootstrapServers, topics, unlearningTimeout, out).play();
  }

  /** Starts Kafka, creates the topics and starts the services; returns the bootstrap servers. */
  public String start() throws IOException {
    LOG.info("Starting Marginal: {}", config);
    if (config.fresh()) {
      deleteRecursively(config.dataDir());
    }
    Files.createDirectories(config.dataDir());
    long t0 = System.nanoTime();
    KafkaRuntime kafka = KafkaRuntime.start(config);
    started.push(kafka);
    topics = new Topics(TopicSettings.from(System.getenv()));
    TopicProvisioner.ensureTopics(kafka.bootstrapServers(), Map.of(), topics);
    System.out.printf("Kafka listening on %s (ready in %d ms)%n", kafka.bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
    for (TopicSpec spec : topics.all()) {
      System.out.printf("  topic %-36s partitions=%d %s%n", spec.name(), spec.partitions(),
          spec.compacted() ? "compacted" : "retention=" + spec.configs().get("retention.ms") + "ms");
    }
    Map<String, String> env = serviceEnvironment(kafka.bootstrapServers());
    startStreams(env);
    startTrainer(env);
    LanguageModel model = loadModel(env);
    for (int i = 1; i <= config.inferenceNodes(); i++) {
      inferenceNodes.add(startInference(inferenceEnvironment(env, i), model));
    }
    bootstrapServers = kafka.bootstrapServers();
    return bootstrapServers;
  }

  /** The first running inference node (after {@link #start}). */
  InferenceNode inference() {
    return inferenceNodes.get(0);
  }

  /** Every running inference node (after {@link #start}). */
  public java.util.List<InferenceNode> inferenceNodes() {
    return java.util.List.copyOf(inferenceNodes);
  }

  /** Where the services' Kafka is (after {@link #start}). */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The topic names in use (after {@link #start}). */
  public Topics topics() {
    return topics;
  }

  /**
   * The settings of inference node {@code index} (1-based): node ids local-1, local-2, … and, from a
   * fixed base port, consecutive ports (port 0 stays 0: each node picks a free one).
   */
  static Map<String, String> inferenceEnvironment(Map<String, String> env, int index) {
    Map<String, String> node = new java.util.HashMap<>(env);
    String id = env.get("MARGINAL_NODE_ID");
    node.put("MARGINAL_NODE_ID", index == 1 ? id : id.replaceFirst("-1$", "") + "-" + index);
    int port = Integer.parseInt(env.getOrDefault("MARGINAL_HTTP_PORT", "8080"));
    node.put("MARGINAL_HTTP_PORT", String.valueOf(port == 0 ? 0 : port + index - 1));
    return node;
  }

  /** One model instance, shared by the inference nodes, closed after them. */
  private LanguageModel loadModel(Map<String, String> env) {
    long t0 = System.nanoTime();
    String configured = env.get("MARGINAL_MODEL_DIR");
    Path dir = configured == null || configured.isBlank() ? DemoModel.ensureBuilt() : Path.of(configured);
    LanguageModel model = LanguageModel.load(dir);
    started.push(model);
    System.out.printf("Model %s loaded from %s (%d ms)%n", env.getOrDefault("MARGINAL_BASE_MODEL", "marginal-demo"), dir,
        (System.nanoTime() - t0) / 1_000_000);
    return model;
  }

  /** The trainer node as a child JVM (see {@link TrainerProcess}), logging to {@code <data dir>/trainer.log}. */
  private void startTrainer(Map<String, String> env) {
    long t0 = System.nanoTime();
    Map<String, String> trainerEnv = new java.util.HashMap<>(env);
    trainerEnv.put("MARGINAL_NODE_ID", env.get("MARGINAL_NODE_ID") + "-trainer");
    if (env.getOrDefault("MARGINAL_MODEL_DIR", "").isBlank()) {
      DemoModel.ensureBuilt(); // built (once) here rather than raced by two processes
    }
    Path log = config.dataDir().toAbsolutePath().resolve("trainer.log");
    SupervisedProcess trainer = TrainerProcess.start(trainerEnv, log, Duration.ofSeconds(120));
    this.trainer = trainer;
    started.push(trainer);
    System.out.printf("Trainer node %s consuming %s as process %d (log %s, /metrics and /ready on %s, ready in %d ms)%n",
        trainerEnv.get("MARGINAL_NODE_ID"), topics.name(Topics.UNLEARNING_REQUESTS), trainer.pid(), log,
        trainerPort(trainerEnv), (System.nanoTime() - t0) / 1_000_000);
  }

  private static String trainerPort(Map<String, String> env) {
    String port = env.getOrDefault("MARGINAL_TRAINER_HTTP_PORT", String.valueOf(io.marginal.trainer.config.TrainerConfig.DEFAULT_HTTP_PORT));
    return port.equals("0") ? "a free port (see its log)" : "http://localhost:" + port;
  }

  private InferenceNode startInference(Map<String, String> env, LanguageModel model) {
    long t0 = System.nanoTime();
    InferenceNode node = InferenceNode.start(InferenceConfig.from(env), model, false);
    started.push(node);
    // In this all-in-one layout /ready also answers for the services behind the node.
    node.addReadinessCheck(this::streamsNotReady);
    node.addReadinessCheck(() -> trainer == null ? java.util.Optional.empty() : trainer.notReady());
    try {
      if (!node.awaitReady(java.time.Duration.ofSeconds(60))) {
        throw new IllegalStateException("inference node did not catch up with the memory-banks and adapters topics within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the inference node", e);
    }
    System.out.printf("Inference node %s serving %s/v1 (console %s/console/, ready in %d ms)%n", node.config().nodeId(),
        node.baseUrl(), node.baseUrl(), (System.nanoTime() - t0) / 1_000_000);
    return node;
  }

  /**
   * The settings every service gets: the operator's environment, with the launcher's Kafka and
   * data directory filled in where the operator did not set them.
   */
  Map<String, String> serviceEnvironment(String bootstrapServers) {
    Map<String, String> env = new java.util.HashMap<>(System.getenv());
    env.putAll(overrides);
    env.put("MARGINAL_BOOTSTRAP_SERVERS", bootstrapServers);
    Path data = config.dataDir().toAbsolutePath();
    env.putIfAbsent("MARGINAL_STREAMS_STATE_DIR", data.resolve("streams").toString());
    env.putIfAbsent("MARGINAL_ADAPTER_STORE", data.resolve("adapters").toString());
    env.putIfAbsent("MARGINAL_TRAINER_WORK_DIR", data.resolve("trainer-work").toString());
    env.putIfAbsent("MARGINAL_NODE_ID", "local-1");
    return env;
  }

  private void startStreams(Map<String, String> env) {
    long t0 = System.nanoTime();
    StreamsAppConfig streamsConfig = StreamsAppConfig.from(env);
    MarginalStreamsApp streams = MarginalStreamsApp.start(streamsConfig);
    this.streams = streams;
    started.push(streams);
    streams.awaitRunning(java.time.Duration.ofSeconds(120));
    System.out.printf("Streams app %s running (state in %s, /metrics and /ready on http://localhost:%d, ready in %d ms)%n",
        streamsConfig.applicationId(), env.get("MARGINAL_STREAMS_STATE_DIR"), streams.httpPort(), (System.nanoTime() - t0) / 1_000_000);
  }

  private java.util.Optional<String> streamsNotReady() {
    return streams == null ? java.util.Optional.empty() : streams.notReady();
  }

  /** The streams app (after {@link #start}). */
  MarginalStreamsApp streamsApp() {
    return streams;
  }

  /** The supervised trainer child process (after {@link #start}). */
  SupervisedProcess trainer() {
    return trainer;
  }

  public void stop() {
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
