package io.marginal.ops.bench;

import io.marginal.config.Cli;
import io.marginal.config.Settings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.inference.InferenceNode;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.inference.generation.IntraOpThreads;
import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.PeftAdapterWriter;
import io.marginal.ops.bench.model.GenerationBenchmark;
import io.marginal.model.demo.DemoModel;
import io.marginal.model.lora.AdapterMetadata;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.weights.Projection;
import io.marginal.schemas.topics.AdapterKeys;
import io.marginal.schemas.ActivationState;
import io.marginal.schemas.AdapterActivation;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.AdapterStatus;
import io.marginal.schemas.serde.MarginalSerdes;
import io.marginal.schemas.topics.TopicProvisioner;
import io.marginal.schemas.topics.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The serving benchmark: an embedded Kafka broker and, in the same process, two nodes over the demo
 * model — the continuous-batching node (the default configuration) and the batch-of-1 baseline
 * ({@code MARGINAL_MAX_BATCH=0}, two workers: the node as it was before batching). Each of N users
 * (N = 0, 5, 100, 1,000) holds a per-user adapter of their own (rank 8 on o/gate/up/down_proj of every
 * layer: the trainer's default shape); closed-loop clients at each concurrency pick a user at random
 * per request and stream the answer. Per cell it prints requests/s, completion tokens/s, time to
 * first token and inter-token latency (p50/p99), the user-adapter cache hit rate and the CPU taken by
 * the process, the engine and the JIT compilers, for both nodes. Measuring starts once the JIT is
 * quiet (steady state: every node loaded in turns until compilation takes under {@code --jit-quiet}
 * of a core), each cell after a warm-up of its own; rounds visit nodes and user counts in turn.
 * Then one shared adapter every request uses (merged into the batch weights, the default, against a
 * node that does not merge it, and the bare base model), the cost of a cache miss (a node whose
 * adapter budget holds a fraction of the users), and adapter hot-swap latency with the
 * failed-request count under load.
 *
 * <pre>
 *   mvn -q -Prun -DskipTests verify -Drun.main=io.marginal.ops.bench.LoadBenchmark \
 *       -Drun.args="--users 0,5,100,1000 --levels 1,8,32 --requests 64 --max-tokens 32"
 * </pre>
 */
public final class LoadBenchmark {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ADMIN_KEY = "sk-bench-admin";
  private static final String NODE_ID = "bench-node";
  /** The base model id the nodes serve (their default): base + every shared adapter + the caller's own. */
  private static final String MODEL_ID = "marginal-demo";
  /** Users without an adapter, for the N = 0 cells. */
  private static final int PLAIN_USERS = 32;

  private record Node(String name, InferenceNode node, String url) {}

  /** A cell of the shared-adapter block: a node and the model id its requests name. */
  private record Cell(String name, String url, String modelId) {}

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "LoadBenchmark", description = {"Serving load: the continuous-batching node against the batch-of-1 node over the demo",
      "model, per user count and concurrency (requests/s, tokens/s, TTFT, inter-token latency, cache hits),",
      "then the cost of an adapter-cache miss and hot-swap latency under load."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--users", paramLabel = "N", split = ",", splitSynopsisLabel = ",", defaultValue = "0,5,100,1000",
        description = "User counts, each user with an adapter of their own.")
    int[] userCounts;

    @Option(names = "--levels", paramLabel = "C", split = ",", splitSynopsisLabel = ",", defaultValue = "1,8,32",
        description = "Concurrent clients.")
    int[] levels;

    @Option(names = "--requests", paramLabel = "N", description = "Measured requests per cell.")
    int requests = 64;

    @Option(names = "--max-tokens", paramLabel = "N", description = "max_tokens of each request.")
    int maxTokens = 32;

    @Option(names = "--miss-budget", paramLabel = "BYTES", description = "Adapter-cache budget of the cache-miss node (suffixes k, m, g).")
    String missBudget = "16m";

    @Option(names = "--engines", paramLabel = "N", split = ",", splitSynopsisLabel = ",", defaultValue = "1,2",
        description = "Batching-engine counts, one batched node each.")
    int[] engineCounts;

    @Option(names = "--model-dir", paramLabel = "DIR", description = "A checkpoint directory (default: the demo model, built on first use).")
    Path modelDir;

    @Option(names = "--rounds", paramLabel = "N", description = "Measurements per cell, the nodes and user counts taking turns; the median"
        + " round by tokens/s is printed. More than 1 on a machine shared with other work.")
    int rounds = 1;

    @Option(names = "--warmup-seconds", paramLabel = "S", description = "Load each node with the cell's users and concurrency for at least"
        + " this long before measuring (allocator, adapter cache, batch shape).")
    double warmupSeconds = 2;

    @Option(names = "--jit-quiet", paramLabel = "PERCENT", description = "Before any cell, load every node until JIT compilation takes less"
        + " than this share of one core over a window of 5 s (steady state); 0 skips this warm-up.")
    double jitQuietPercent = 5;

    @Option(names = "--max-warmup-seconds", paramLabel = "S", description = "Give up waiting for a quiet JIT after this long (and say so).")
    double maxWarmupSeconds = 300;

    @Override
    public Integer call() throws Exception {
      Settings.parseBytes("--miss-budget", missBudget);
      if (requests < 1 || maxTokens < 1 || rounds < 1 || Arrays.stream(levels).anyMatch(c -> c < 1)
          || Arrays.stream(userCounts).anyMatch(n -> n < 0) || Arrays.stream(engineCounts).anyMatch(e -> e < 1) || warmupSeconds < 0
          || jitQuietPercent < 0 || maxWarmupSeconds < 0) {
        throw new IllegalArgumentException("--requests, --max-tokens, --rounds, --levels and --engines must be >= 1, --users,"
            + " --warmup-seconds, --jit-quiet and --max-warmup-seconds >= 0");
      }
      DemoModel.defaultEngineSettings();
      IntraOpThreads.apply();
      run(requests, maxTokens, levels, userCounts, missBudget, engineCounts, modelDir, rounds,
          new Warmup(warmupSeconds, jitQuietPercent, maxWarmupSeconds));
      return 0;
    }
  }

  /** How long to warm up: until the JIT is quiet (once), then at least {@code cellSeconds} per node and cell. */
  private record Warmup(double cellSeconds, double jitQuietPercent, double maxSeconds) {}

  private static void run(int requests, int maxTokens, int[] levels, int[] userCounts, String missBudget, int[] engineCounts,
      Path modelDir, int rounds, Warmup warmup) throws Exception {
    int users = Arrays.stream(userCounts).max().orElse(0);
    Path dir = modelDir != null ? modelDir : DemoModel.ensureBuilt();
    Path store = Files.createTempDirectory("marginal-bench-adapters-");
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startTemporary();
        LanguageModel model = LanguageModel.load(dir)) {
      Map<String, String> env = new HashMap<>();
      env.put("MARGINAL_BOOTSTRAP_SERVERS", broker.bootstrapServers());
      env.put("MARGINAL_HTTP_HOST", "127.0.0.1");
      env.put("MARGINAL_HTTP_PORT", "0");
      env.put("MARGINAL_MODEL_DIR", dir.toString());
      env.put("MARGINAL_ADAPTER_STORE", store.toString());
      env.put("MARGINAL_API_KEYS", apiKeys(users));
      env.put("MARGINAL_ADMIN_KEY", ADMIN_KEY);
      env.put("MARGINAL_QUEUE_CAPACITY", "256");
      env.put("MARGINAL_MAX_COMPLETION_TOKENS", String.valueOf(Math.max(256, maxTokens)));
      InferenceConfig base = InferenceConfig.from(env);
      TopicProvisioner.ensureTopics(broker.bootstrapServers(), Map.of(), base.topics());
      long writeStart = System.nanoTime();
      publishUserAdapters(broker, base, model, store, users);
      System.out.printf(Locale.ROOT, "%d per-user adapters written and published in %.1f s%n", users, (System.nanoTime() - writeStart) / 1e9);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<InferenceNode> started = new ArrayList<>();
      try {
        InferenceNode serialNode = InferenceNode.start(base.with(Map.of("MARGINAL_NODE_ID", NODE_ID + "-serial",
            "MARGINAL_MAX_BATCH", "0", "MARGINAL_WORKER_THREADS", "2")), model, false);
        started.add(serialNode);
        List<Node> nodes = new ArrayList<>();
        nodes.add(new Node("batch of 1 (2 workers)", serialNode, serialNode.baseUrl()));
        for (int e : engineCounts) {
          InferenceNode batched = InferenceNode.start(base.with(Map.of("MARGINAL_NODE_ID", NODE_ID + "-batched-" + e,
              "MARGINAL_BATCH_ENGINES", String.valueOf(e))), model, false);
          started.add(batched);
          nodes.add(new Node("batching, " + e + " engine" + (e == 1 ? "" : "s"), batched, batched.baseUrl()));
        }
        InferenceNode batchedNode = started.get(1);
        for (Node n : nodes) {
          n.node().awaitReady(Duration.ofSeconds(60));
          awaitUserAdapters(http, n.url(), users);
        }
        int busiest = Arrays.stream(levels).max().orElse(1);
        if (warmup.jitQuietPercent() > 0) {
          untilJitQuiet(http, nodes, userCounts, users, busiest, maxTokens, warmup);
        }
        System.out.printf(Locale.ROOT, "%nmodel %s (%s), streamed (SSE), max_tokens %d, temperature 0, %d requests per cell after a"
            + " warm-up of its own (>= %.0f s per node); median of %d round(s), nodes and user counts taking turns; adapters: rank 8 on"
            + " o/gate/up/down_proj of every layer; user-adapter cache %d MiB%n",
            dir.getFileName(), model.config().describe(), maxTokens, requests, warmup.cellSeconds(), rounds,
            base.userAdapterCacheBytes() >> 20);
        System.out.printf(Locale.ROOT, "host: %d CPU cores, Java %s, %s PyTorch intra-op thread(s)%n", Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.version"), System.getProperty(IntraOpThreads.PROPERTY));
        System.out.printf(Locale.ROOT, "%n| users with adapters | concurrency | node | req/s | tokens/s | TTFT p50 / p99 ms"
            + " | inter-token p50 / p99 ms | cache hit rate | errors | CPU %% process / engine threads / JIT |%n"
            + "|---|---|---|---|---|---|---|---|---|---|%n");
        Map<String, Double> tokensPerSecond = new HashMap<>();
        for (int c : levels) {
          for (int n : userCounts) {
            for (Node node : nodes) {
              long until = System.nanoTime() + (long) (warmup.cellSeconds() * 1e9);
              do { // this cell's users and batch shape
                run(http, node.url(), n, users, c, Math.max(c, 8), maxTokens);
              } while (System.nanoTime() < until);
            }
          }
          // rounds visit every user count and node in turn, so a drift of the machine's speed is shared by
          // the cells compared (batching / batch of 1, adapters / none, 1,000 / 5 users)
          Map<String, List<Measured>> rounded = new HashMap<>();
          for (int r = 0; r < rounds; r++) {
            for (int n : userCounts) {
              for (Node node : nodes) {
                long[] before = cacheCounts(http, node.url());
                CpuUse cpu = CpuUse.now();
                Level l = run(http, node.url(), n, users, c, requests, maxTokens);
                CpuUse used = CpuUse.now().minus(cpu);
                long[] after = cacheCounts(http, node.url());
                rounded.computeIfAbsent(node.name() + "/" + n, k -> new ArrayList<>())
                    .add(new Measured(l, used, after[0] - before[0], after[1] - before[1]));
              }
            }
          }
          for (int n : userCounts) {
            for (Node node : nodes) {
              List<Measured> ms = new ArrayList<>(rounded.get(node.name() + "/" + n));
              ms.sort(java.util.Comparator.comparingDouble(m -> m.level().tokensPerSecond()));
              Measured m = ms.get((ms.size() - 1) / 2);
              Level l = m.level();
              tokensPerSecond.put(node.name() + "/" + n + "/" + c, l.tokensPerSecond());
              System.out.printf(Locale.ROOT, "| %d | %d | %s | %.1f | %.0f | %.0f / %.0f | %.1f / %.1f | %s | %d | %.0f / %.0f / %.0f |%n", n, c,
                  node.name(), l.requestsPerSecond(), l.tokensPerSecond(), percentile(l.ttftMs, 50), percentile(l.ttftMs, 99),
                  percentile(l.itlMs, 50), percentile(l.itlMs, 99), n == 0 ? "—" : String.format(Locale.ROOT, "%.1f %%",
                      100.0 * m.hits() / Math.max(1, m.hits() + m.misses())), l.errors, 100 * m.cpu().processNanos() / 1e9 / l.seconds(),
                  100 * m.cpu().engineNanos() / 1e9 / l.seconds(), 100 * m.cpu().jitNanos() / 1e9 / l.seconds());
            }
          }
        }
        ratios(tokensPerSecond, nodes, userCounts, levels);
        sharedAdapter(broker, base, model, store, http, users, Math.min(8, busiest), requests, rounds, maxTokens, warmup.cellSeconds());
        misses(http, base, model, users, maxTokens, missBudget);
        swaps(broker, base, model, store, http, batchedNode.baseUrl() + "/v1/chat/completions", maxTokens);
      } finally {
        for (int i = started.size() - 1; i >= 0; i--) {
          started.get(i).close();
        }
      }
    }
  }

  /**
   * Loads every node with every user count at the busiest concurrency, in turns, until JIT
   * compilation falls under the threshold over a 5 s window: on a small host the compilers keep a
   * core busy for a minute or more (the broker, Vert.x, the HTTP clients and the nodes all getting
   * hot), and cells measured meanwhile measure the compilers, the batching node most (it is the one
   * short of CPU).
   */
  private static void untilJitQuiet(HttpClient http, List<Node> nodes, int[] userCounts, int users, int concurrency, int maxTokens,
      Warmup warmup) throws Exception {
    long start = System.nanoTime();
    long windowStart = start;
    long windowJit = CpuUse.jitNanosSoFar();
    double share = Double.NaN;
    while (true) {
      for (int n : userCounts) {
        for (Node node : nodes) {
          run(http, node.url(), n, users, concurrency, Math.max(concurrency, 8) * 2, maxTokens);
        }
      }
      long now = System.nanoTime();
      if (now - windowStart >= 5_000_000_000L) {
        long jit = CpuUse.jitNanosSoFar();
        share = 100.0 * (jit - windowJit) / (now - windowStart);
        if (share < warmup.jitQuietPercent()) {
          System.out.printf(Locale.ROOT, "%nwarm-up: %.0f s until JIT compilation took %.1f %% of a core over the last %.1f s (threshold %.1f %%)%n",
              (now - start) / 1e9, share, (now - windowStart) / 1e9, warmup.jitQuietPercent());
          return;
        }
        windowStart = now;
        windowJit = jit;
      }
      if (now - start > warmup.maxSeconds() * 1e9) {
        System.out.printf(Locale.ROOT, "%nwarm-up: JIT compilation still took %.1f %% of a core after %.0f s (threshold %.1f %%);"
            + " measuring anyway, the JIT column shows how much it costs each cell%n", share, (now - start) / 1e9, warmup.jitQuietPercent());
        return;
      }
    }
  }

  private static void ratios(Map<String, Double> tps, List<Node> nodes, int[] userCounts, int[] levels) {
    String serial = nodes.get(0).name();
    System.out.printf(Locale.ROOT, "%nratios (tokens/s):%n");
    for (Node node : nodes.subList(1, nodes.size())) {
      String batched = node.name();
      for (int c : levels) {
        for (int n : userCounts) {
          Double b = tps.get(batched + "/" + n + "/" + c);
          Double s = tps.get(serial + "/" + n + "/" + c);
          Double none = tps.get(batched + "/0/" + c);
          Double five = tps.get(batched + "/5/" + c);
          System.out.printf(Locale.ROOT, "  %s, concurrency %d, %d users: / batch-of-1 ×%.2f%s%s%n", batched, c, n, b / s,
              n > 0 && none != null ? String.format(Locale.ROOT, "; with adapters / without ×%.2f", b / none) : "",
              n > 5 && five != null ? String.format(Locale.ROOT, "; %d users / 5 users ×%.2f", n, b / five) : "");
        }
      }
    }
  }

  /**
   * One shared adapter (rank 8 on all projections) every request of the base model id uses, on two
   * batching nodes started for this: one merges it into the weights its engine steps with (the
   * default), the other ({@code MARGINAL_MERGE_SHARED_ADAPTERS=false}) applies it per step. Before the
   * adapter is published both serve the bare base model, in turns: their ratio then is the control
   * (two nodes of the same configuration differ by this much). Then, in turns: each node's base
   * model id (with the adapter), the non-merging node's {@code :none} (the bare base model, the
   * reference) and the merging node's {@code :none} (served by the adapter's negated factors). Users
   * without adapters of their own.
   */
  private static void sharedAdapter(EmbeddedKafkaBroker broker, InferenceConfig config, LanguageModel model, Path store, HttpClient http,
      int plainBase, int concurrency, int requests, int rounds, int maxTokens, double warmupSeconds) throws Exception {
    try (InferenceNode merging = InferenceNode.start(config.with(Map.of("MARGINAL_NODE_ID", NODE_ID + "-merging")), model, false);
        InferenceNode plain = InferenceNode.start(config.with(Map.of("MARGINAL_NODE_ID", NODE_ID + "-not-merging",
            "MARGINAL_MERGE_SHARED_ADAPTERS", "false")), model, false);
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig(broker));
        KafkaConsumer<byte[], byte[]> acks = new KafkaConsumer<>(consumerConfig(broker))) {
      merging.awaitReady(Duration.ofSeconds(60));
      plain.awaitReady(Duration.ofSeconds(60));
      List<Cell> control = List.of(new Cell("merging node, no shared adapter yet", merging.baseUrl(), MODEL_ID),
          new Cell("non-merging node, no shared adapter yet", plain.baseUrl(), MODEL_ID));
      Map<String, Turns> before = measureInTurns(http, control, plainBase, concurrency, requests, rounds, maxTokens, warmupSeconds);

      Topics topics = config.topics();
      readFromNow(acks, topics.name(Topics.ADAPTER_ACTIVATIONS));
      String id = "shared-load";
      publishAndAwait(producer, acks, topics, model, store, id, 1, config.modelId());
      awaitListing(http, merging.baseUrl(), l -> l.path("batch_engines").path(0).path("merged").toString().contains(id + "@1:"),
          "merge " + id + " into its batch weights");
      awaitListing(http, plain.baseUrl(), l -> l.path("shared").toString().contains(id), "serve " + id);
      List<Cell> cells = List.of(new Cell("merged", merging.baseUrl(), MODEL_ID), new Cell("not merged", plain.baseUrl(), MODEL_ID),
          new Cell("bare base model (:none, non-merging node)", plain.baseUrl(), MODEL_ID + ":none"),
          new Cell(":none on the merging node", merging.baseUrl(), MODEL_ID + ":none"));
      Map<String, Turns> after = measureInTurns(http, cells, plainBase, concurrency, requests, rounds, maxTokens, warmupSeconds);

      System.out.printf(Locale.ROOT, "%none shared adapter every request uses (rank 8, all projections), concurrency %d, users without"
          + " adapters of their own, median of %d round(s) taking turns; ratios: of the medians, and the range of the %d per-round"
          + " ratios (cells of one round are seconds apart)%n", concurrency, rounds, rounds);
      Turns a = before.get(control.get(0).name());
      Turns b = before.get(control.get(1).name());
      System.out.printf(Locale.ROOT, "  control, before publishing: merging node %.0f, non-merging node %.0f tokens/s: ×%.2f %s%n",
          a.median(), b.median(), a.median() / b.median(), a.ratioRange(b));
      Turns none = after.get(cells.get(2).name());
      for (Cell cell : cells) {
        Turns t = after.get(cell.name());
        System.out.printf(Locale.ROOT, "  %-42s %6.0f tokens/s  ÷ bare base model ×%.2f %s  (errors %d)%n", cell.name(), t.median(),
            t.median() / none.median(), t.ratioRange(none), t.errors());
      }
      // withdrawn, so the blocks after this one serve what they did before it
      AdapterPublished withdrawn = AdapterPublished.newBuilder().setAdapterId(id).setScope("shared:" + id).setVersion(1)
          .setStatus(AdapterStatus.WITHDRAWN).setBaseModel(config.modelId()).setUri("").setSha256("").setSizeBytes(0)
          .setRequestId("bench-withdraw").setTimestamp(Instant.now()).build();
      producer.send(new ProducerRecord<>(topics.name(Topics.ADAPTERS), AdapterKeys.version(id, 1),
          MarginalSerdes.ADAPTER_PUBLISHED.serialize(Topics.ADAPTERS, withdrawn))).get();
    }
  }

  /** One cell's tokens/s per round, in round order, and its errors in all. */
  private record Turns(List<Double> tokensPerSecond, int errors) {
    double median() {
      return LoadBenchmark.median(tokensPerSecond);
    }

    /** {@code [min–max]} of this cell's tokens/s ÷ {@code other}'s, round by round. */
    String ratioRange(Turns other) {
      double lo = Double.MAX_VALUE;
      double hi = 0;
      for (int r = 0; r < tokensPerSecond.size(); r++) {
        double ratio = tokensPerSecond.get(r) / other.tokensPerSecond.get(r);
        lo = Math.min(lo, ratio);
        hi = Math.max(hi, ratio);
      }
      return String.format(Locale.ROOT, "[×%.2f–×%.2f]", lo, hi);
    }
  }

  /** Per cell: tokens/s of {@code rounds} rounds that visit every cell in turn (after a warm-up each), and errors in all. */
  private static Map<String, Turns> measureInTurns(HttpClient http, List<Cell> cells, int plainBase, int concurrency,
      int requests, int rounds, int maxTokens, double warmupSeconds) throws Exception {
    Map<String, List<Double>> tps = new HashMap<>();
    Map<String, Integer> errors = new HashMap<>();
    for (int r = -1; r < rounds; r++) {
      for (Cell c : cells) {
        String name = c.name();
        String url = c.url();
        String modelId = c.modelId();
        if (r < 0) { // warm-up: this cell's model id and batch shape
          long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
          do {
            run(http, url, modelId, 0, plainBase, concurrency, Math.max(concurrency, 8), maxTokens);
          } while (System.nanoTime() < until);
          continue;
        }
        Level l = run(http, url, modelId, 0, plainBase, concurrency, requests, maxTokens);
        tps.computeIfAbsent(name, k -> new ArrayList<>()).add(l.tokensPerSecond());
        errors.merge(name, l.errors, Integer::sum);
      }
    }
    Map<String, Turns> out = new HashMap<>();
    tps.forEach((name, values) -> out.put(name, new Turns(values, errors.get(name))));
    return out;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    java.util.Collections.sort(sorted);
    return sorted.get((sorted.size() - 1) / 2);
  }

  /** Polls the node's adapter listing until {@code done} holds (60 s, then a clear error). */
  private static void awaitListing(HttpClient http, String baseUrl, java.util.function.Predicate<JsonNode> done, String what)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!done.test(adapterListing(http, baseUrl))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(baseUrl + " did not " + what + " within 60 s");
      }
      Thread.sleep(50);
    }
  }

  /** Assigns every partition of {@code topic} to {@code consumer}, positioned at its end: it reads only what comes next. */
  private static void readFromNow(KafkaConsumer<byte[], byte[]> consumer, String topic) {
    List<TopicPartition> parts = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    consumer.assign(parts);
    consumer.seekToEnd(parts);
    parts.forEach(consumer::position);
  }

  private static Map<String, Object> producerConfig(EmbeddedKafkaBroker broker) {
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("key.serializer", StringSerializer.class);
    p.put("value.serializer", ByteArraySerializer.class);
    return p;
  }

  private static Map<String, Object> consumerConfig(EmbeddedKafkaBroker broker) {
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", broker.bootstrapServers());
    c.put("key.deserializer", ByteArrayDeserializer.class);
    c.put("value.deserializer", ByteArrayDeserializer.class);
    return c;
  }

  /** A node whose adapter budget holds only some of the users: every request of an evicted user waits for a load. */
  private static void misses(HttpClient http, InferenceConfig base, LanguageModel model, int users, int maxTokens, String budget)
      throws Exception {
    if (users == 0) {
      return;
    }
    try (InferenceNode node = InferenceNode.start(base.with(Map.of("MARGINAL_NODE_ID", NODE_ID + "-small-cache",
        "MARGINAL_USER_ADAPTER_CACHE_BYTES", budget)), model, false)) {
      node.awaitReady(Duration.ofSeconds(60));
      awaitUserAdapters(http, node.baseUrl(), users);
      run(http, node.baseUrl(), users, users, 8, 16, maxTokens);
      long[] before = cacheCounts(http, node.baseUrl());
      Level l = run(http, node.baseUrl(), users, users, 8, 64, maxTokens);
      long[] after = cacheCounts(http, node.baseUrl());
      JsonNode cache = adapterListing(http, node.baseUrl()).path("user_cache");
      long hits = after[0] - before[0];
      long misses = after[1] - before[1];
      System.out.printf(Locale.ROOT, "%ncache misses: %d users, budget %s (%d adapters fit), concurrency 8, continuous batching:"
          + " hit rate %.1f %%, %.1f req/s, %.0f tokens/s, TTFT p50 / p99 %.0f / %.0f ms; mean wait for a missed adapter %.1f ms%n",
          users, budget, cache.path("loaded").asLong(), 100.0 * hits / Math.max(1, hits + misses), l.requestsPerSecond(),
          l.tokensPerSecond(), percentile(l.ttftMs, 50), percentile(l.ttftMs, 99), cache.path("mean_miss_wait_ms").asDouble());
    }
  }

  private static String apiKeys(int users) {
    StringBuilder keys = new StringBuilder();
    for (int i = 0; i < users + PLAIN_USERS; i++) {
      keys.append(i == 0 ? "" : ",").append(key(i)).append(':').append(user(i));
    }
    return keys.toString();
  }

  private static String key(int i) {
    return "sk-bench-" + i;
  }

  private static String user(int i) {
    return "bench-user-" + i;
  }

  private static void publishUserAdapters(EmbeddedKafkaBroker broker, InferenceConfig config, LanguageModel model, Path store, int users)
      throws Exception {
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("key.serializer", StringSerializer.class);
    p.put("value.serializer", ByteArraySerializer.class);
    LoraConfig shape = LoraConfig.of(8, 16, 0, Projection.O, Projection.GATE, Projection.UP, Projection.DOWN);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < users; i++) {
        String id = "user-adapter-" + i;
        Path dir = store.resolve(id).resolve("v1");
        String sha;
        try (LoraAdapter adapter = LoraAdapter.create(id, 1, model.config(), shape, model.manager(), 1000 + i)) {
          GenerationBenchmark.randomizeB(adapter, 1000 + i);
          adapter.setMetadata(new AdapterMetadata(config.modelId(), List.of(), Map.of()));
          sha = PeftAdapterWriter.write(adapter, dir).sha256();
        }
        AdapterPublished event = AdapterPublished.newBuilder().setAdapterId(id).setScope("user:" + user(i)).setVersion(1)
            .setStatus(AdapterStatus.PUBLISHED).setBaseModel(config.modelId()).setUri(dir.toUri().toString()).setSha256(sha)
            .setSizeBytes(Files.size(dir.resolve("adapter_model.safetensors"))).setRequestId("bench-" + i)
            .setTimestamp(Instant.now()).build();
        producer.send(new ProducerRecord<>(config.topics().name(Topics.ADAPTERS), AdapterKeys.version(id, 1),
            MarginalSerdes.ADAPTER_PUBLISHED.serialize(Topics.ADAPTERS, event)));
      }
      producer.flush();
    }
  }

  private static JsonNode adapterListing(HttpClient http, String baseUrl) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/v1/adapters"))
        .header("Authorization", "Bearer " + ADMIN_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  private static void awaitUserAdapters(HttpClient http, String baseUrl, int users) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (adapterListing(http, baseUrl).path("user_adapters").size() < users) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(baseUrl + " did not activate " + users + " user adapters within 5 minutes");
      }
      Thread.sleep(200);
    }
  }

  /** {hits, misses} of the node's user-adapter cache so far. */
  private static long[] cacheCounts(HttpClient http, String baseUrl) throws Exception {
    JsonNode c = adapterListing(http, baseUrl).path("user_cache");
    return new long[] {c.path("hits").asLong(), c.path("misses").asLong()};
  }

  private static void swaps(EmbeddedKafkaBroker broker, InferenceConfig config, LanguageModel model, Path store, HttpClient http,
      String url, int maxTokens) throws Exception {
    Topics topics = config.topics();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig(broker));
        KafkaConsumer<byte[], byte[]> acks = new KafkaConsumer<>(consumerConfig(broker))) {
      readFromNow(acks, topics.name(Topics.ADAPTER_ACTIVATIONS));
      List<Long> idle = new ArrayList<>();
      List<Long> idleRoundTrip = new ArrayList<>();
      int version = 0;
      for (int i = 0; i < 5; i++) {
        long t0 = System.nanoTime();
        AdapterActivation ack = publishAndAwait(producer, acks, topics, model, store, ++version, config.modelId());
        idleRoundTrip.add((System.nanoTime() - t0) / 1_000_000);
        idle.add(ack.getSwapLatencyMs());
      }
      List<Long> loaded = new ArrayList<>();
      AtomicInteger failures = new AtomicInteger();
      ExecutorService load = Executors.newFixedThreadPool(4);
      AtomicLong stop = new AtomicLong();
      List<Future<?>> clients = new ArrayList<>();
      CountDownLatch busy = new CountDownLatch(4);
      for (int i = 0; i < 4; i++) {
        clients.add(load.submit(() -> {
          while (stop.get() == 0) {
            if (!stream(http, url, key(0), MODEL_ID, maxTokens).ok()) {
              failures.incrementAndGet();
            }
            busy.countDown(); // this client has had an answer: the node is under load
          }
          return null;
        }));
      }
      // swaps start once every client has completed a request, rather than after a guessed delay
      if (!busy.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the load clients got no answer within 60 s");
      }
      for (int i = 0; i < 5; i++) {
        loaded.add(publishAndAwait(producer, acks, topics, model, store, ++version, config.modelId()).getSwapLatencyMs());
      }
      stop.set(1);
      for (Future<?> f : clients) {
        f.get();
      }
      load.shutdown();
      System.out.printf(Locale.ROOT, "%nadapter swap (rank-8 LoRA on all projections, verify sha256 + manifest + load + atomic swap):%n");
      System.out.printf(Locale.ROOT, "  idle:                 swapLatencyMs %s (publish → ACTIVE ack seen by a client: %s ms)%n", idle, idleRoundTrip);
      System.out.printf(Locale.ROOT, "  under 4-client load:  swapLatencyMs %s, failed requests during the swaps: %d%n", loaded, failures.get());
    }
  }

  private static AdapterActivation publishAndAwait(KafkaProducer<String, byte[]> producer, KafkaConsumer<byte[], byte[]> acks, Topics topics,
      LanguageModel model, Path store, int version, String baseModel) throws Exception {
    return publishAndAwait(producer, acks, topics, model, store, "shared-bench", version, baseModel);
  }

  private static AdapterActivation publishAndAwait(KafkaProducer<String, byte[]> producer, KafkaConsumer<byte[], byte[]> acks, Topics topics,
      LanguageModel model, Path store, String id, int version, String baseModel) throws Exception {
    Path dir = store.resolve(id).resolve("v" + version);
    String sha;
    try (LoraAdapter adapter = LoraAdapter.create(id, version, model.config(), LoraConfig.allProjections(8, 16, 0), model.manager(), version)) {
      adapter.setMetadata(new AdapterMetadata(baseModel, List.of(), Map.of()));
      sha = PeftAdapterWriter.write(adapter, dir).sha256();
    }
    AdapterPublished event = AdapterPublished.newBuilder().setAdapterId(id).setScope("shared:" + id).setVersion(version)
        .setStatus(AdapterStatus.PUBLISHED).setBaseModel(baseModel).setUri(dir.toUri().toString()).setSha256(sha)
        .setSizeBytes(Files.size(dir.resolve("adapter_model.safetensors"))).setRequestId("bench-" + version)
        .setTimestamp(Instant.now()).build();
    producer.send(new ProducerRecord<>(topics.name(Topics.ADAPTERS), id, MarginalSerdes.ADAPTER_PUBLISHED.serialize(Topics.ADAPTERS, event))).get();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : acks.poll(Duration.ofMillis(50))) {
        AdapterActivation a = MarginalSerdes.ADAPTER_ACTIVATION.deserialize(Topics.ADAPTER_ACTIVATIONS, r.value());
        if (a.getAdapterId().equals(id) && a.getVersion() == version) {
          if (a.getState() != ActivationState.ACTIVE) {
            throw new IllegalStateException("adapter v" + version + " not activated: " + a.getReason());
          }
          return a;
        }
      }
    }
    throw new IllegalStateException("no acknowledgement for adapter v" + version + " within 60 s");
  }

  /** One measured round of a cell on one node. */
  private record Measured(Level level, CpuUse cpu, long hits, long misses) {}

  private record Level(int count, int errors, double seconds, long tokens, double[] ttftMs, double[] itlMs) {
    double requestsPerSecond() {
      return count / seconds;
    }

    double tokensPerSecond() {
      return tokens / seconds;
    }
  }

  /** Nearest-rank percentile ({@link LatencyStats#rank}); NaN when there is no value. */
  static double percentile(double[] values, int p) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return LatencyStats.rank(sorted, p);
  }

  /** {@code requests} streamed requests from {@code concurrency} closed-loop clients, users drawn from the first {@code users}. */
  private static Level run(HttpClient http, String baseUrl, int users, int plainBase, int concurrency, int requests, int maxTokens) throws Exception {
    return run(http, baseUrl, MODEL_ID, users, plainBase, concurrency, requests, maxTokens);
  }

  /** {@code requests} streamed requests naming {@code modelId}, {@code concurrency} closed-loop clients. */
  private static Level run(HttpClient http, String baseUrl, String modelId, int users, int plainBase, int concurrency, int requests,
      int maxTokens) throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    AtomicLong tokens = new AtomicLong();
    List<Double> ttft = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Double> itl = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService clients = Executors.newFixedThreadPool(concurrency);
    long start = System.nanoTime();
    List<Future<?>> fs = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      java.util.Random pick = new java.util.Random(31L * concurrency + c);
      fs.add(clients.submit(() -> {
        while (next.getAndIncrement() < requests) {
          int u = users == 0 ? plainBase + pick.nextInt(PLAIN_USERS) : pick.nextInt(users);
          Stream s = stream(http, baseUrl + "/v1/chat/completions", key(u), modelId, maxTokens);
          if (!s.ok) {
            errors.incrementAndGet();
            continue;
          }
          tokens.addAndGet(s.completionTokens);
          ttft.add(s.ttftMs);
          itl.addAll(s.gapsMs);
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    clients.shutdown();
    return new Level(requests, errors.get(), seconds, tokens.get(), ttft.stream().mapToDouble(Double::doubleValue).toArray(),
        itl.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /**
   * CPU time used so far by this process (the nodes, their broker and the clients: everything runs
   * here), by the continuous-batching engine threads and by the JIT compilers; per cell, as a share of
   * one core, it tells a starved engine (well under 100 %) from a saturated host (process near
   * cores × 100 %), and a cell measured while the JIT was still busy.
   */
  private record CpuUse(long processNanos, long engineNanos, long jitNanos) {
    /** Time the JIT compilers have spent so far, summed over their threads. */
    static long jitNanosSoFar() {
      return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime() * 1_000_000L;
    }

    static CpuUse now() {
      java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
      long engine = 0;
      for (java.lang.management.ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
        if (t != null && t.getThreadName().startsWith("batching-engine")) {
          engine += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
        }
      }
      long process = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
          .getProcessCpuTime();
      return new CpuUse(process, engine, jitNanosSoFar());
    }

    CpuUse minus(CpuUse earlier) {
      return new CpuUse(processNanos - earlier.processNanos, engineNanos - earlier.engineNanos, jitNanos - earlier.jitNanos);
    }
  }

  private record Stream(boolean ok, long completionTokens, double ttftMs, List<Double> gapsMs) {}

  private static final String[] PROMPTS = {"How do I reset my password?", "What are your opening hours?",
      "Recommend a film for tonight.", "Can I change my delivery address?", "Tell me a joke."};
  private static final AtomicInteger PROMPT = new AtomicInteger();

  /** One streamed request, timed per SSE chunk as it arrives. */
  private static Stream stream(HttpClient http, String url, String key, String modelId, int maxTokens) {
    try {
      String prompt = PROMPTS[Math.floorMod(PROMPT.getAndIncrement(), PROMPTS.length)];
      String body = JSON.createObjectNode().put("model", modelId).put("max_tokens", maxTokens).put("temperature", 0)
          .put("stream", true).set("messages", JSON.createArrayNode().add(JSON.createObjectNode().put("role", "user")
              .put("content", prompt))).toString().replace("\"stream\":true", "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
      long t0 = System.nanoTime();
      HttpResponse<java.util.stream.Stream<String>> r = http.send(HttpRequest.newBuilder(URI.create(url))
          .header("Authorization", "Bearer " + key).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
      if (r.statusCode() != 200) {
        r.body().close();
        return new Stream(false, 0, 0, List.of());
      }
      long[] last = {0};
      double[] first = {-1};
      long[] used = {0};
      boolean[] done = {false};
      List<Double> gaps = new ArrayList<>();
      try (java.util.stream.Stream<String> lines = r.body()) {
        lines.forEach(line -> {
          if (!line.startsWith("data: ")) {
            return;
          }
          long now = System.nanoTime();
          String data = line.substring(6);
          if (data.equals("[DONE]")) {
            done[0] = true;
            return;
          }
          try {
            JsonNode n = JSON.readTree(data);
            if (n.has("usage") && !n.path("usage").isNull()) {
              used[0] = n.path("usage").path("completion_tokens").asLong();
            }
            String content = n.path("choices").path(0).path("delta").path("content").asText("");
            if (!content.isEmpty()) {
              if (first[0] < 0) {
                first[0] = (now - t0) / 1e6;
              } else {
                gaps.add((now - last[0]) / 1e6);
              }
              last[0] = now;
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
      }
      return new Stream(done[0] && first[0] >= 0, used[0], first[0], gaps);
    } catch (Exception e) {
      return new Stream(false, 0, 0, List.of());
    }
  }
}
