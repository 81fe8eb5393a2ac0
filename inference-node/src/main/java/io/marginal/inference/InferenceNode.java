package io.marginal.inference;

import picocli.CommandLine.Mixin;
import io.marginal.config.Settings;
import io.marginal.config.ServiceConfigOptions;
import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.config.Cli;
import io.marginal.inference.adapters.AdapterRegistry;
import io.marginal.inference.adapters.AdapterVerifier;
import io.marginal.inference.adapters.AdapterWatcher;
import io.marginal.inference.adapters.UserAdapterCache;
import io.marginal.inference.api.InferenceVerticle;
import io.marginal.inference.api.NodeServices;
import io.marginal.inference.api.RequestGate;
import io.marginal.inference.auth.ApiKeyAuthenticator;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.inference.generation.ChatService;
import io.marginal.inference.generation.IntraOpThreads;
import io.marginal.inference.generation.ModelWorkerPool;
import io.marginal.inference.generation.SharedAdapterMerger;
import io.marginal.inference.generation.TextGeneration;
import io.marginal.inference.kafka.EventPublisher;
import io.marginal.inference.kafka.TopicTail;
import io.marginal.inference.metrics.NodeMetrics;
import io.marginal.metrics.ServiceMetrics;
import io.marginal.inference.personalization.CmSelector;
import io.marginal.inference.personalization.MemoryBankReplica;
import io.marginal.inference.receipts.DeletionReceiptReplica;
import io.marginal.model.LanguageModel;
import io.marginal.model.demo.DemoModel;
import io.marginal.schemas.deadletter.DeadLetterPublisher;
import io.marginal.schemas.topics.Topics;
import io.marginal.personalization.cm.KnnDiscrepancyEstimator;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The inference node: loads the model, starts the memory-bank replica and the adapter watcher,
 * the model worker pool and the HTTP API, and shuts them down in the reverse order after draining
 * the requests in flight.
 *
 * <pre>
 *   java io.marginal.inference.InferenceNode                 # against MARGINAL_BOOTSTRAP_SERVERS
 *   java io.marginal.ops.StandaloneInferenceNode             # one-machine demo with its own broker (ops module)
 * </pre>
 */
public final class InferenceNode implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InferenceNode.class);
  /** Deletions whose latest receipt each user can see on this node (GET /v1/users/{id}/receipts). */
  private static final int RECEIPTS_PER_USER = 50;

  private final List<java.util.function.Supplier<java.util.Optional<String>>> readinessChecks =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final InferenceConfig config;
  private final LanguageModel model;
  private final boolean ownsModel;
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final RequestGate gate = new RequestGate();
  private NodeServices services;
  private TopicTail bankTail;
  private TopicTail adapterTail;
  private ModelWorkerPool workers;
  private Vertx vertx;
  private InferenceVerticle verticle;
  private boolean closed;

  private InferenceNode(InferenceConfig config, LanguageModel model, boolean ownsModel) {
    this.config = config;
    this.model = model;
    this.ownsModel = ownsModel;
  }

  /** Starts a node that loads (and will close) the configured model. */
  public static InferenceNode start(InferenceConfig config) {
    Path dir = config.modelDir() != null ? config.modelDir() : DemoModel.ensureBuilt();
    LanguageModel model = LanguageModel.load(dir);
    try {
      return start(config, model, true);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** Starts a node over an already loaded model; closes it on shutdown only if {@code ownsModel}. */
  public static InferenceNode start(InferenceConfig config, LanguageModel model, boolean ownsModel) {
    InferenceNode node = new InferenceNode(config, model, ownsModel);
    try {
      node.startAll();
      return node;
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
  }

  private void startAll() {
    LOG.info("starting inference node: {}", config);
    if (config.demoKeys()) {
      LOG.warn("using the built-in DEMO API keys (demo-key-alice, demo-key-bob, demo-admin-key): set MARGINAL_API_KEYS and"
          + " MARGINAL_ADMIN_KEY before exposing this node");
    }
    Map<String, Object> kafka = config.kafkaClientConfig();
    Topics topics = config.topics();
    ServiceMetrics serviceMetrics = ServiceMetrics.create();
    resources.add(serviceMetrics);
    NodeMetrics metrics = new NodeMetrics(serviceMetrics);
    EventPublisher publisher = EventPublisher.create(kafka, topics, config.nodeId());
    resources.add(publisher);
    DeadLetterPublisher deadLetters = DeadLetterPublisher.create(kafka, topics.name(Topics.DEAD_LETTERS), "inference-" + config.nodeId())
        .rememberEarlierLetters(kafka, Duration.ofSeconds(30)); // the tails below replay their topics from the start
    resources.add(deadLetters);

    MemoryBankReplica banks = new MemoryBankReplica();
    bankTail = new TopicTail(topics.name(Topics.MEMORY_BANKS), kafka, config.nodeId() + "-memory-banks", deadLetters, banks::apply).start();
    resources.add(bankTail);
    DeletionReceiptReplica receipts = new DeletionReceiptReplica(RECEIPTS_PER_USER);
    resources.add(new TopicTail(topics.name(Topics.DELETION_RECEIPTS), kafka, config.nodeId() + "-deletion-receipts", deadLetters,
        receipts::apply).start());

    AdapterVerifier verifier = new AdapterVerifier(config.adapterStore(), config.modelId());
    AdapterRegistry registry = new AdapterRegistry(new UserAdapterCache(config.userAdapterCacheBytes()), verifier, model);
    resources.add(registry);
    AdapterWatcher watcher = new AdapterWatcher(registry, verifier, model, publisher, metrics, config.nodeId());
    adapterTail = new TopicTail(topics.name(Topics.ADAPTERS), kafka, config.nodeId() + "-adapters", deadLetters, watcher).start();
    resources.add(adapterTail);

    workers = new ModelWorkerPool(config.workerThreads(), config.queueCapacity());
    TextGeneration generation = config.maxBatch() == 0 ? TextGeneration.oneAtATime(model) : TextGeneration.batched(model, config.maxBatch(), config.batchEngines());
    resources.add(generation);
    if (config.maxBatch() > 0 && config.mergeSharedAdapters()) {
      // closed before the engines
      resources.add(new SharedAdapterMerger(registry, generation, model, config.mergeSharedMaxBytes()).start());
    }
    ChatService chat = new ChatService(model, generation, registry, banks, new CmSelector(KnnDiscrepancyEstimator.defaults()), publisher, metrics,
        new ChatService.Settings(config.nodeId(), config.modelId(), config.maxPromptTokens(), config.cmSamples(), config.cmBankCandidates()));

    metrics.gauge("marginal.worker.queue.depth", null, "Chat requests waiting for a model worker.", workers::queueDepth);
    metrics.gauge("marginal.worker.queue.capacity", null, "Waiting requests beyond which the node answers 429.", workers::capacity);
    metrics.gauge("marginal.workers.busy", null, "Model workers running a request now.", workers::running);
    metrics.gauge("marginal.workers", null, "Model worker threads.", workers::threads);
    metrics.gauge("marginal.requests.in.flight", null, "HTTP requests being served (drained on shutdown).", gate::inFlight);
    metrics.gauge("marginal.memory.bank.users", null, "Users with a memory bank in this node's replica.", banks::users);
    metrics.gauge("marginal.batch.sequences.active", null, "Sequences in the continuous batch now.", generation::activeSequences);
    metrics.gauge("marginal.batch.size.mean", null, "Mean sequences per decode step.", generation::meanBatchSize);
    metrics.gauge("marginal.user.adapters.active", null, "Per-user adapter versions this node serves (counted, never by user).",
        () -> registry.snapshot().userAdapters().size());
    UserAdapterCache cache = registry.userCache();
    metrics.gauge("marginal.user.adapter.cache.loaded", null, "Per-user adapters loaded in the cache.", cache::size);
    metrics.gauge("marginal.user.adapter.cache", "bytes", "Bytes of the per-user adapters loaded.", cache::bytes);
    metrics.gauge("marginal.user.adapter.cache.budget", "bytes", "The cache's budget (MARGINAL_USER_ADAPTER_CACHE_BYTES).",
        cache::budgetBytes);
    metrics.counter("marginal.user.adapter.cache.hits", "Requests whose per-user adapter was loaded.", cache, UserAdapterCache::hits);
    metrics.counter("marginal.user.adapter.cache.misses", "Requests that waited for their per-user adapter to load.", cache,
        UserAdapterCache::misses);
    metrics.counter("marginal.user.adapter.cache.evictions", "Per-user adapters evicted to stay within the budget.", cache,
        UserAdapterCache::evictions);
    metrics.timer("marginal.user.adapter.cache.miss.wait", "Time requests waited for their adapter on a miss.", cache,
        UserAdapterCache::misses, UserAdapterCache::missWaitNanos);

    services = new NodeServices(config, chat, workers, registry, watcher, banks, receipts, publisher, metrics,
        new ApiKeyAuthenticator(config.apiKeys(), config.adminKey()), this::notReady, adapterTail::rewind, generation);
    vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(4));
    verticle = new InferenceVerticle(services, gate);
    try {
      vertx.deployVerticle(verticle).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException("inference API did not start: " + cause.getMessage(), cause);
    }
    LOG.info("inference node {} serving '{}' on port {} ({} workers, queue {}, {})", config.nodeId(), config.modelId(),
        port(), config.workerThreads(), config.queueCapacity(),
        config.maxBatch() == 0 ? "one sequence at a time per worker" : "continuous batching of up to " + config.maxBatch() + " sequences on " + config.batchEngines() + " engine(s)");
  }

  /**
   * Adds a condition of the deployment around this node to {@code /ready} (the local launcher adds
   * the streams app's state and the trainer process): a non-empty result is a reason not to send
   * traffic here.
   */
  public void addReadinessCheck(java.util.function.Supplier<java.util.Optional<String>> check) {
    readinessChecks.add(check);
  }

  private List<String> notReady() {
    List<String> reasons = new ArrayList<>();
    readinessChecks.forEach(c -> c.get().ifPresent(reasons::add));
    if (!bankTail.isCaughtUp()) {
      reasons.add("memory-bank replica still loading " + config.topics().name(Topics.MEMORY_BANKS));
    }
    if (!adapterTail.isCaughtUp()) {
      reasons.add("adapter watcher still reading " + config.topics().name(Topics.ADAPTERS));
    }
    // A dead reader means stale banks or adapters: deleted data could be served again. Not ready.
    bankTail.failure().ifPresent(why -> reasons.add("memory-bank reader stopped (" + why + "); restart the node"));
    adapterTail.failure().ifPresent(why -> reasons.add("adapter reader stopped (" + why + "); restart the node"));
    return reasons;
  }

  /** Waits until the bank replica and the adapters are caught up with what existed at start. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    return bankTail.awaitCaughtUp(timeout)
        && adapterTail.awaitCaughtUp(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
  }

  /** The HTTP routes this node serves ("METHOD path"). */
  public List<String> routes() {
    return verticle.routes();
  }

  public int port() {
    return verticle.actualPort();
  }

  public String baseUrl() {
    return "http://localhost:" + port();
  }

  public NodeServices services() {
    return services;
  }

  public InferenceConfig config() {
    return config;
  }

  /**
   * Graceful shutdown: refuse new requests, let those in flight (streams included) finish within
   * the drain timeout, then stop HTTP, the workers, the Kafka clients and the model.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    gate.close();
    try {
      int inFlight = gate.inFlight();
      if (inFlight > 0) {
        LOG.info("draining {} requests in flight (up to {})", inFlight, config.drainTimeout());
      }
      if (!gate.awaitIdle(config.drainTimeout())) {
        LOG.warn("{} requests still running after {}; closing anyway", gate.inFlight(), config.drainTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (vertx != null) {
      CountDownLatch done = new CountDownLatch(1);
      vertx.close().onComplete(r -> done.countDown());
      try {
        done.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (workers != null) {
      workers.shutdown(Duration.ofSeconds(10));
      workers.close();
    }
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        LOG.warn("closing {}: {}", resources.get(i).getClass().getSimpleName(), e.toString());
      }
    }
    if (ownsModel) {
      model.close();
    }
    LOG.info("inference node {} stopped", config.nodeId());
  }

  public static void main(String[] args) {
    TrustedPackages.allowMarginalClasses();
    Cli.run(new Main(), args);
  }

  /** The node's command line: configuration comes from the environment; the options only point at a file or check it. */
  @Command(name = "InferenceNode", description = {"Serves the OpenAI-compatible chat API with per-user personalization and",
      "the published adapters, against the Kafka cluster in MARGINAL_BOOTSTRAP_SERVERS."},
      footer = {"", "Configured by MARGINAL_* environment variables (table in inference-node/README.md), e.g.",
          "  MARGINAL_BOOTSTRAP_SERVERS (localhost:9092)  MARGINAL_HTTP_HOST / _PORT (0.0.0.0 / 8080)",
          "  MARGINAL_MODEL_DIR (the demo model)  MARGINAL_ADAPTER_STORE (var/adapters)  MARGINAL_NODE_ID",
          "  MARGINAL_API_KEYS (key:user,...)  MARGINAL_API_KEYS_FILE  MARGINAL_ADMIN_KEY (demo keys when unset)",
          "  MARGINAL_MAX_BATCH (16)  MARGINAL_WORKER_THREADS  MARGINAL_INTRA_OP_THREADS (1)  MARGINAL_DEVICE (auto)",
          "With its own embedded broker (one-machine demo): io.marginal.ops.StandaloneInferenceNode."})
  static final class Main implements Callable<Integer> {
    @Mixin
    ServiceConfigOptions options;

    @Option(names = "--embedded-kafka", hidden = true)
    boolean embeddedKafka;

    @Override
    public Integer call() throws Exception {
      if (embeddedKafka) {
        System.err.println("--embedded-kafka moved out of the node (its jar carries no broker): run io.marginal.ops.StandaloneInferenceNode,"
            + " e.g. mvn -q -Prun -DskipTests verify -Drun.main=io.marginal.ops.StandaloneInferenceNode");
        return 64;
      }
      InferenceConfig config = InferenceConfig.from(options.settings(Settings.environment(), InferenceConfig.CONFIG_FILE_KEY));
      if (options.printConfig()) {
        System.out.println(config);
        return 0;
      }
      DemoModel.defaultEngineSettings();
      IntraOpThreads.apply();
      runUntilStopped(start(config), () -> { });
      return 0;
    }
  }

  /** Blocks until the JVM is asked to stop, then closes {@code node} and runs {@code afterwards}. */
  public static void runUntilStopped(InferenceNode node, Runnable afterwards) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      afterwards.run();
      stopped.countDown();
    }, "inference-shutdown"));
    LOG.info("ready when GET {}/ready says so; try: curl {}/v1/models -H 'Authorization: Bearer demo-key-alice'",
        node.baseUrl(), node.baseUrl());
    stopped.await();
  }
}
