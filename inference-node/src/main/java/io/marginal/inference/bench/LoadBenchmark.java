package io.marginal.inference.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.inference.InferenceNode;
import io.marginal.inference.config.InferenceConfig;
import io.marginal.inference.generation.IntraOpThreads;
import io.marginal.kafka.embedded.EmbeddedKafkaBroker;
import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.PeftAdapterWriter;
import io.marginal.model.demo.DemoModel;
import io.marginal.model.lora.AdapterMetadata;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
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
 * The load command: starts an embedded Kafka broker and a node over the demo model, drives
 * {@code POST /v1/chat/completions} at several concurrency levels (closed loop: each client sends
 * its next request when the previous answer arrives), prints requests/s, p50/p99 latency and
 * completion tokens/s per level, then measures the adapter swap latency (event received → new
 * version serving, as acknowledged on adapter-activations), idle and under load.
 *
 * <pre>
 *   mvn -pl inference-node exec:java -Dexec.mainClass=io.marginal.inference.bench.LoadBenchmark \
 *       -Dexec.args="--requests 24 --levels 1,2,4,8 --max-tokens 32 --workers 2"
 * </pre>
 */
public final class LoadBenchmark {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "sk-bench-user";
  private static final String NODE_ID = "bench-node";

  public static void main(String[] args) throws Exception {
    DemoModel.defaultEngineSettings();
    IntraOpThreads.apply();
    int requests = 24;
    int maxTokens = 32;
    int workers = 2;
    boolean stream = false;
    int[] levels = {1, 2, 4, 8};
    Path modelDir = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--requests" -> requests = Integer.parseInt(args[++i]);
        case "--max-tokens" -> maxTokens = Integer.parseInt(args[++i]);
        case "--workers" -> workers = Integer.parseInt(args[++i]);
        case "--levels" -> levels = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--model-dir" -> modelDir = Path.of(args[++i]);
        case "--stream" -> stream = true;
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + "; use --requests N --levels 1,2,4,8 --max-tokens N --workers N --model-dir DIR --stream");
      }
    }
    Path dir = modelDir != null ? modelDir : DemoModel.ensureBuilt();
    Path store = Files.createTempDirectory("marginal-bench-adapters-");
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.startTemporary();
        LanguageModel model = LanguageModel.load(dir)) {
      Map<String, String> env = new HashMap<>();
      env.put("MARGINAL_BOOTSTRAP_SERVERS", broker.bootstrapServers());
      env.put("MARGINAL_HTTP_HOST", "127.0.0.1");
      env.put("MARGINAL_HTTP_PORT", "0");
      env.put("MARGINAL_NODE_ID", NODE_ID);
      env.put("MARGINAL_MODEL_DIR", dir.toString());
      env.put("MARGINAL_ADAPTER_STORE", store.toString());
      env.put("MARGINAL_API_KEYS", KEY + ":bench-user");
      env.put("MARGINAL_ADMIN_KEY", "sk-bench-admin");
      env.put("MARGINAL_WORKER_THREADS", String.valueOf(workers));
      env.put("MARGINAL_QUEUE_CAPACITY", "256");
      env.put("MARGINAL_MAX_COMPLETION_TOKENS", String.valueOf(Math.max(256, maxTokens)));
      InferenceConfig config = InferenceConfig.from(env);
      TopicProvisioner.ensureTopics(broker.bootstrapServers(), Map.of(), config.topics());
      try (InferenceNode node = InferenceNode.start(config, model, false)) {
        node.awaitReady(Duration.ofSeconds(60));
        String url = node.baseUrl() + "/v1/chat/completions";
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        System.out.printf(Locale.ROOT, "%nmodel %s (%s), %d model workers, %d requests per level, max_tokens %d, %s, temperature 0%n",
            dir.getFileName(), model.config().describe(), workers, requests, maxTokens, stream ? "streamed (SSE)" : "non-streaming");
        System.out.printf(Locale.ROOT, "host: %d CPU cores, Java %s%n", Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.version"));
        run(http, url, 1, Math.min(4, requests), maxTokens, stream); // warm-up
        System.out.printf(Locale.ROOT, "%n| concurrency | requests | errors | req/s | p50 ms | p99 ms | completion tokens/s |%n");
        System.out.printf(Locale.ROOT, "|---|---|---|---|---|---|---|%n");
        for (int c : levels) {
          Level l = run(http, url, c, requests, maxTokens, stream);
          System.out.printf(Locale.ROOT, "| %d | %d | %d | %.2f | %.0f | %.0f | %.1f |%n", c, l.count, l.errors, l.requestsPerSecond(),
              l.percentile(50), l.percentile(99), l.tokensPerSecond());
        }
        swaps(broker, config, model, store, http, url, maxTokens);
      }
    }
  }

  private static void swaps(EmbeddedKafkaBroker broker, InferenceConfig config, LanguageModel model, Path store, HttpClient http,
      String url, int maxTokens) throws Exception {
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("key.serializer", StringSerializer.class);
    p.put("value.serializer", ByteArraySerializer.class);
    Map<String, Object> c = new HashMap<>();
    c.put("bootstrap.servers", broker.bootstrapServers());
    c.put("key.deserializer", ByteArrayDeserializer.class);
    c.put("value.deserializer", ByteArrayDeserializer.class);
    Topics topics = config.topics();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p); KafkaConsumer<byte[], byte[]> acks = new KafkaConsumer<>(c)) {
      List<TopicPartition> parts = acks.partitionsFor(topics.name(Topics.ADAPTER_ACTIVATIONS)).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      acks.assign(parts);
      acks.seekToEnd(parts);
      parts.forEach(acks::position);
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
            if (!send(http, url, maxTokens, false, new long[1])) {
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
    String id = "shared-bench";
    Path dir = store.resolve(id).resolve("v" + version);
    String sha;
    try (LoraAdapter adapter = LoraAdapter.create(id, version, model.config(), LoraConfig.allProjections(8, 16, 0), model.manager(), version)) {
      adapter.setMetadata(new AdapterMetadata(baseModel, List.of(), Map.of()));
      sha = PeftAdapterWriter.write(adapter, dir).sha256();
    }
    AdapterPublished event = AdapterPublished.newBuilder().setAdapterId(id).setScope("shared:bench").setVersion(version)
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

  private record Level(int count, int errors, double seconds, long tokens, double[] latenciesMs) {
    double requestsPerSecond() {
      return count / seconds;
    }

    double tokensPerSecond() {
      return tokens / seconds;
    }

    double percentile(int p) {
      if (latenciesMs.length == 0) {
        return Double.NaN;
      }
      double[] sorted = latenciesMs.clone();
      Arrays.sort(sorted);
      int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
      return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
  }

  private static Level run(HttpClient http, String url, int concurrency, int requests, int maxTokens, boolean stream) throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    AtomicLong tokens = new AtomicLong();
    double[] latencies = new double[requests];
    ExecutorService clients = Executors.newFixedThreadPool(concurrency);
    long start = System.nanoTime();
    List<Future<?>> fs = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      fs.add(clients.submit(() -> {
        int i;
        while ((i = next.getAndIncrement()) < requests) {
          long t0 = System.nanoTime();
          long[] used = new long[1];
          if (!send(http, url, maxTokens, stream, used)) {
            errors.incrementAndGet();
          }
          tokens.addAndGet(used[0]);
          latencies[i] = (System.nanoTime() - t0) / 1e6;
        }
        return null;
      }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    clients.shutdown();
    return new Level(requests, errors.get(), seconds, tokens.get(), latencies);
  }

  private static final String[] PROMPTS = {"How do I reset my password?", "What are your opening hours?",
      "Recommend a film for tonight.", "Can I change my delivery address?", "Tell me a joke."};
  private static final AtomicInteger PROMPT = new AtomicInteger();

  /** One request; counts completion tokens into {@code used[0]}; false on any failure. */
  private static boolean send(HttpClient http, String url, int maxTokens, boolean stream, long[] used) {
    try {
      String prompt = PROMPTS[Math.floorMod(PROMPT.getAndIncrement(), PROMPTS.length)];
      String body = JSON.createObjectNode().put("model", "marginal-demo").put("max_tokens", maxTokens).put("temperature", 0)
          .put("stream", stream).put("stream_options", (String) null)
          .set("messages", JSON.createArrayNode().add(JSON.createObjectNode().put("role", "user").put("content", prompt))).toString();
      if (stream) {
        body = body.replace("\"stream_options\":null", "\"stream_options\":{\"include_usage\":true}");
      }
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + KEY)
          .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return false;
      }
      if (!stream) {
        used[0] = JSON.readTree(r.body()).path("usage").path("completion_tokens").asLong();
        return true;
      }
      for (String block : r.body().split("\n\n")) {
        if (block.startsWith("data: {") && block.contains("\"usage\"")) {
          JsonNode n = JSON.readTree(block.substring(6));
          used[0] = n.path("usage").path("completion_tokens").asLong();
        }
      }
      return r.body().endsWith("data: [DONE]\n\n");
    } catch (Exception e) {
      return false;
    }
  }
}
