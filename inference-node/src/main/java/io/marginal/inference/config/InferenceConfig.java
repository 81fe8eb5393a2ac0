package io.marginal.inference.config;

import io.marginal.config.Settings;
import io.marginal.schemas.topics.TopicSettings;
import io.marginal.schemas.topics.Topics;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Everything the inference node is told, in one place. Read from an optional properties file
 * ({@code MARGINAL_INFERENCE_CONFIG}, same keys as the environment) overlaid by the environment
 * ({@code MARGINAL_*}); the defaults run the embedded demo on one machine.
 *
 * @param httpHost            interface to listen on ({@code MARGINAL_HTTP_HOST}, default 0.0.0.0)
 * @param httpPort            port ({@code MARGINAL_HTTP_PORT}, default 8080; 0 picks a free one)
 * @param bootstrapServers    Kafka ({@code MARGINAL_BOOTSTRAP_SERVERS}, default localhost:9092)
 * @param clientSecurity      extra Kafka client settings from {@code MARGINAL_KAFKA_*} keys (e.g. security.protocol)
 * @param topics              topic names and settings ({@code MARGINAL_TOPIC_*})
 * @param nodeId              this node in acknowledgements and interactions ({@code MARGINAL_NODE_ID})
 * @param modelDir            the checkpoint directory ({@code MARGINAL_MODEL_DIR}); {@code null} = the demo model
 * @param modelId             the base model id clients name ({@code MARGINAL_BASE_MODEL}, default marginal-demo)
 * @param adapterStore        root of the adapter store ({@code MARGINAL_ADAPTER_STORE}); adapter URIs must lie under it
 * @param workerThreads       requests served at once ({@code MARGINAL_WORKER_THREADS}; default {@code max(2, maxBatch)}): with
 *                            batching a worker prepares its request and waits on the engine, one at a time it decodes itself
 * @param queueCapacity       requests that may wait for a worker; beyond it 429 ({@code MARGINAL_QUEUE_CAPACITY}, default 16)
 * @param maxBodyBytes        largest request body; beyond it 413 ({@code MARGINAL_MAX_BODY_BYTES}, default 256 KiB)
 * @param maxPromptChars      largest conversation in characters ({@code MARGINAL_MAX_PROMPT_CHARS}, default 16000)
 * @param maxPromptTokens     largest prompt in tokens ({@code MARGINAL_MAX_PROMPT_TOKENS}, default 1024)
 * @param maxCompletionTokens largest {@code max_tokens} accepted ({@code MARGINAL_MAX_COMPLETION_TOKENS}, default 256)
 * @param defaultMaxTokens    {@code max_tokens} when the request names none ({@code MARGINAL_DEFAULT_MAX_TOKENS}, default 64)
 * @param requestTimeout      queue wait + generation limit per request ({@code MARGINAL_REQUEST_TIMEOUT}, ISO-8601, default PT60S)
 * @param drainTimeout        how long shutdown waits for in-flight requests ({@code MARGINAL_DRAIN_TIMEOUT}, default PT30S)
 * @param cmSamples           extra seeded samples drawn as CM candidates besides the greedy answer ({@code MARGINAL_CM_SAMPLES}, default 2)
 * @param cmBankCandidates    preferred responses taken from the nearest bank entries ({@code MARGINAL_CM_BANK_CANDIDATES}, default 3)
 * @param userAdapterCacheBytes native memory for loaded per-user adapters, least recently used evicted
 *                            ({@code MARGINAL_USER_ADAPTER_CACHE_BYTES}, default 256 MiB; suffixes k, m, g allowed)
 * @param maxBatch            sequences decoded together by the continuous-batching engine ({@code MARGINAL_MAX_BATCH},
 *                            default 16); 0 decodes one sequence at a time on each worker (the pre-batching path)
 * @param batchEngines        continuous-batching engines, one thread each ({@code MARGINAL_BATCH_ENGINES}, default 1)
 * @param mergeSharedAdapters whether the batching engines merge the shared adapters into a copy of the projection weights
 *                            they touch ({@code MARGINAL_MERGE_SHARED_ADAPTERS}, default true): a request that uses them
 *                            all pays nothing per token for them, at the cost of those weights once more in memory
 * @param mergeSharedMaxBytes the most memory a merge may copy, per engine ({@code MARGINAL_MERGE_SHARED_MAX_BYTES},
 *                            default 1 GiB; suffixes k, m, g): a larger set is applied per step instead, with a warning
 * @param apiKeys             bearer key → user id, from {@code MARGINAL_API_KEYS} ({@code key:user,key:user}) or
 *                            the properties file {@code MARGINAL_API_KEYS_FILE} ({@code key=user} lines)
 * @param adminKey            bearer key of the admin endpoints ({@code MARGINAL_ADMIN_KEY})
 * @param demoKeys            whether {@link #apiKeys} and {@link #adminKey} are the built-in demo keys
 */
public record InferenceConfig(
    String httpHost, int httpPort,
    String bootstrapServers, Map<String, Object> clientSecurity, Topics topics, String nodeId,
    Path modelDir, String modelId, Path adapterStore,
    int workerThreads, int queueCapacity,
    int maxBodyBytes, int maxPromptChars, int maxPromptTokens, int maxCompletionTokens, int defaultMaxTokens,
    Duration requestTimeout, Duration drainTimeout,
    int cmSamples, int cmBankCandidates, long userAdapterCacheBytes, int maxBatch, int batchEngines, boolean mergeSharedAdapters,
    long mergeSharedMaxBytes, Map<String, String> apiKeys, String adminKey, boolean demoKeys) {

  /** Keys that let the embedded demo run without setup; logged loudly when in use. */
  public static final Map<String, String> DEMO_API_KEYS = Map.of("demo-key-alice", "alice", "demo-key-bob", "bob");
  public static final String DEMO_ADMIN_KEY = "demo-admin-key";
  /** Names a properties file with the same keys; the environment overrides it. */
  public static final String CONFIG_FILE_KEY = "MARGINAL_INFERENCE_CONFIG";

  public InferenceConfig {
    require(workerThreads >= 1, "MARGINAL_WORKER_THREADS must be >= 1, got " + workerThreads);
    require(queueCapacity >= 0, "MARGINAL_QUEUE_CAPACITY must be >= 0, got " + queueCapacity);
    require(maxBodyBytes >= 1024, "MARGINAL_MAX_BODY_BYTES must be >= 1024, got " + maxBodyBytes);
    require(defaultMaxTokens >= 1 && defaultMaxTokens <= maxCompletionTokens,
        "MARGINAL_DEFAULT_MAX_TOKENS must be in [1, MARGINAL_MAX_COMPLETION_TOKENS=" + maxCompletionTokens + "], got " + defaultMaxTokens);
    require(cmSamples >= 0 && cmBankCandidates >= 0, "MARGINAL_CM_SAMPLES and MARGINAL_CM_BANK_CANDIDATES must be >= 0");
    require(userAdapterCacheBytes >= 1, "MARGINAL_USER_ADAPTER_CACHE_BYTES must be >= 1, got " + userAdapterCacheBytes);
    require(batchEngines >= 1, "MARGINAL_BATCH_ENGINES must be >= 1, got " + batchEngines);
    require(mergeSharedMaxBytes >= 0, "MARGINAL_MERGE_SHARED_MAX_BYTES must be >= 0, got " + mergeSharedMaxBytes);
    require(maxBatch >= 0, "MARGINAL_MAX_BATCH must be >= 0 (0 = one sequence at a time), got " + maxBatch);
    require(adminKey != null && !adminKey.isBlank(), "MARGINAL_ADMIN_KEY must not be blank");
    require(!apiKeys.containsKey(adminKey), "MARGINAL_ADMIN_KEY must differ from every user key");
    clientSecurity = Map.copyOf(clientSecurity);
    apiKeys = Map.copyOf(apiKeys);
  }

  public static InferenceConfig fromEnvironment() {
    return from(System.getenv());
  }

  /** Reads the keys from {@code env}, after those of the file named by {@code MARGINAL_INFERENCE_CONFIG}. */
  public static InferenceConfig from(Map<String, String> env) {
    return from(Settings.of(env).overFileNamedBy(CONFIG_FILE_KEY));
  }

  /** Reads the keys from {@code env} as they are (a properties file already laid under them). */
  public static InferenceConfig from(Settings env) {
    Map<String, Object> security = new LinkedHashMap<>(env.asDottedKeys("MARGINAL_KAFKA_"));
    Map<String, String> keys = new LinkedHashMap<>();
    env.find("MARGINAL_API_KEYS_FILE").ifPresent(file -> keys.putAll(Settings.readProperties(Path.of(file), "MARGINAL_API_KEYS_FILE")));
    String inline = env.getString("MARGINAL_API_KEYS", "");
    for (String pair : inline.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int colon = pair.lastIndexOf(':');
      require(colon > 0 && colon < pair.length() - 1, "MARGINAL_API_KEYS entry '" + mask(pair)
          + "' is not key:user; expected a comma-separated list such as sk-1:alice,sk-2:bob");
      keys.put(pair.substring(0, colon).trim(), pair.substring(colon + 1).trim());
    }
    String admin = env.asMap().get("MARGINAL_ADMIN_KEY"); // set but blank is an error, not the demo keys
    boolean demo = keys.isEmpty() && admin == null;
    if (keys.isEmpty() && admin != null) {
      throw new IllegalArgumentException("MARGINAL_ADMIN_KEY is set but no user keys are: set MARGINAL_API_KEYS or MARGINAL_API_KEYS_FILE");
    }
    require(!env.asMap().containsKey("MARGINAL_USER_ADAPTER_SLOTS"), "MARGINAL_USER_ADAPTER_SLOTS was replaced by"
        + " MARGINAL_USER_ADAPTER_CACHE_BYTES (a budget in bytes, e.g. 256m); remove it");
    int maxBatch = env.getInt("MARGINAL_MAX_BATCH", 16);
    return new InferenceConfig(
        env.getString("MARGINAL_HTTP_HOST", "0.0.0.0"),
        env.getInt("MARGINAL_HTTP_PORT", 8080),
        env.getString("MARGINAL_BOOTSTRAP_SERVERS", "localhost:9092"),
        security,
        new Topics(TopicSettings.from(env)),
        env.getString("MARGINAL_NODE_ID", defaultNodeId()),
        env.getPath("MARGINAL_MODEL_DIR", null),
        env.getString("MARGINAL_BASE_MODEL", "marginal-demo"),
        env.getPath("MARGINAL_ADAPTER_STORE", Path.of("var/adapters")),
        env.getInt("MARGINAL_WORKER_THREADS", Math.max(2, maxBatch)),
        env.getInt("MARGINAL_QUEUE_CAPACITY", 16),
        env.getInt("MARGINAL_MAX_BODY_BYTES", 256 * 1024),
        env.getInt("MARGINAL_MAX_PROMPT_CHARS", 16_000),
        env.getInt("MARGINAL_MAX_PROMPT_TOKENS", 1024),
        env.getInt("MARGINAL_MAX_COMPLETION_TOKENS", 256),
        env.getInt("MARGINAL_DEFAULT_MAX_TOKENS", 64),
        env.getDuration("MARGINAL_REQUEST_TIMEOUT", Duration.ofSeconds(60)),
        env.getDuration("MARGINAL_DRAIN_TIMEOUT", Duration.ofSeconds(30)),
        env.getInt("MARGINAL_CM_SAMPLES", 2),
        env.getInt("MARGINAL_CM_BANK_CANDIDATES", 3),
        env.getBytes("MARGINAL_USER_ADAPTER_CACHE_BYTES", 256L << 20),
        maxBatch,
        env.getInt("MARGINAL_BATCH_ENGINES", 1),
        env.getBoolean("MARGINAL_MERGE_SHARED_ADAPTERS", true),
        env.getBytes("MARGINAL_MERGE_SHARED_MAX_BYTES", 1L << 30),
        demo ? DEMO_API_KEYS : keys,
        demo ? DEMO_ADMIN_KEY : admin,
        demo);
  }

  /** A builder-style copy for tests and the launchers. */
  public InferenceConfig with(Map<String, String> overrides) {
    return from(Settings.of(toEnvironment()).with(overrides));
  }

  /** This configuration as the environment keys that produce it. */
  public Map<String, String> toEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("MARGINAL_HTTP_HOST", httpHost);
    env.put("MARGINAL_HTTP_PORT", String.valueOf(httpPort));
    env.put("MARGINAL_BOOTSTRAP_SERVERS", bootstrapServers);
    clientSecurity.forEach((k, v) -> env.put("MARGINAL_KAFKA_" + k.toUpperCase().replace('.', '_'), String.valueOf(v)));
    TopicSettings t = topics.settings();
    env.put("MARGINAL_TOPIC_PREFIX", t.prefix());
    env.put("MARGINAL_TOPIC_PARTITIONS", String.valueOf(t.partitions()));
    env.put("MARGINAL_TOPIC_REPLICATION_FACTOR", String.valueOf(t.replicationFactor()));
    env.put("MARGINAL_TOPIC_SEGMENT_AGE", t.segmentAge().toString());
    env.put("MARGINAL_TOPIC_COMPACTION_LAG", t.compactionLag().toString());
    env.put("MARGINAL_TOPIC_INPUT_RETENTION", t.inputRetention().toString());
    env.put("MARGINAL_NODE_ID", nodeId);
    if (modelDir != null) {
      env.put("MARGINAL_MODEL_DIR", modelDir.toString());
    }
    env.put("MARGINAL_BASE_MODEL", modelId);
    env.put("MARGINAL_ADAPTER_STORE", adapterStore.toString());
    env.put("MARGINAL_WORKER_THREADS", String.valueOf(workerThreads));
    env.put("MARGINAL_QUEUE_CAPACITY", String.valueOf(queueCapacity));
    env.put("MARGINAL_MAX_BODY_BYTES", String.valueOf(maxBodyBytes));
    env.put("MARGINAL_MAX_PROMPT_CHARS", String.valueOf(maxPromptChars));
    env.put("MARGINAL_MAX_PROMPT_TOKENS", String.valueOf(maxPromptTokens));
    env.put("MARGINAL_MAX_COMPLETION_TOKENS", String.valueOf(maxCompletionTokens));
    env.put("MARGINAL_DEFAULT_MAX_TOKENS", String.valueOf(defaultMaxTokens));
    env.put("MARGINAL_REQUEST_TIMEOUT", requestTimeout.toString());
    env.put("MARGINAL_DRAIN_TIMEOUT", drainTimeout.toString());
    env.put("MARGINAL_CM_SAMPLES", String.valueOf(cmSamples));
    env.put("MARGINAL_CM_BANK_CANDIDATES", String.valueOf(cmBankCandidates));
    env.put("MARGINAL_USER_ADAPTER_CACHE_BYTES", String.valueOf(userAdapterCacheBytes));
    env.put("MARGINAL_MAX_BATCH", String.valueOf(maxBatch));
    env.put("MARGINAL_BATCH_ENGINES", String.valueOf(batchEngines));
    env.put("MARGINAL_MERGE_SHARED_ADAPTERS", String.valueOf(mergeSharedAdapters));
    env.put("MARGINAL_MERGE_SHARED_MAX_BYTES", String.valueOf(mergeSharedMaxBytes));
    if (!demoKeys) {
      env.put("MARGINAL_API_KEYS", apiKeys.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue())
          .collect(Collectors.joining(",")));
      env.put("MARGINAL_ADMIN_KEY", adminKey);
    }
    return env;
  }

  /** Kafka client settings: bootstrap servers plus the security settings. */
  public Map<String, Object> kafkaClientConfig() {
    Map<String, Object> c = new HashMap<>(clientSecurity);
    c.put("bootstrap.servers", bootstrapServers);
    return c;
  }

  /** For the start-up log line: keys and passwords masked. */
  @Override
  public String toString() {
    String security = clientSecurity.entrySet().stream()
        .map(e -> e.getKey() + "=" + (isSecret(e.getKey()) ? "****" : e.getValue()))
        .collect(Collectors.joining(", ", "{", "}"));
    String users = apiKeys.entrySet().stream().map(e -> mask(e.getKey()) + "→" + e.getValue())
        .collect(Collectors.joining(", ", "{", "}"));
    return "InferenceConfig[http=" + httpHost + ":" + httpPort + ", bootstrapServers=" + bootstrapServers
        + ", security=" + security + ", topicPrefix=" + topics.settings().prefix() + ", nodeId=" + nodeId
        + ", modelDir=" + (modelDir == null ? "<demo model>" : modelDir.toAbsolutePath()) + ", modelId=" + modelId
        + ", adapterStore=" + adapterStore.toAbsolutePath() + ", workers=" + workerThreads + ", queue=" + queueCapacity
        + ", maxBodyBytes=" + maxBodyBytes + ", maxPromptChars=" + maxPromptChars + ", maxPromptTokens=" + maxPromptTokens
        + ", maxCompletionTokens=" + maxCompletionTokens + ", defaultMaxTokens=" + defaultMaxTokens
        + ", requestTimeout=" + requestTimeout + ", drainTimeout=" + drainTimeout + ", cmSamples=" + cmSamples
        + ", cmBankCandidates=" + cmBankCandidates + ", userAdapterCacheBytes=" + userAdapterCacheBytes + ", maxBatch=" + maxBatch + ", batchEngines=" + batchEngines
        + ", mergeSharedAdapters=" + mergeSharedAdapters + ", mergeSharedMaxBytes=" + mergeSharedMaxBytes
        + ", apiKeys=" + users + ", adminKey=" + mask(adminKey) + (demoKeys ? " (DEMO KEYS)" : "") + "]";
  }

  static String mask(String secret) {
    if (secret == null) {
      return "null";
    }
    return secret.length() <= 6 ? "****" : secret.substring(0, 3) + "****" + secret.substring(secret.length() - 2);
  }

  private static boolean isSecret(String key) {
    return key.contains("password") || key.contains("jaas") || key.contains("secret") || key.contains("key");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  private static String defaultNodeId() {
    try {
      return "inference-" + InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "inference-1";
    }
  }
}
