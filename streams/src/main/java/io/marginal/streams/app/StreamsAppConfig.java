package io.marginal.streams.app;

import io.marginal.config.Settings;
import io.marginal.streams.deadletter.DeadLetterDeserializationHandler;
import io.marginal.schemas.topics.TopicSettings;
import io.marginal.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The streams service's one configuration: loaded from the environment (or system properties,
 * same keys) over an optional properties file ({@code MARGINAL_STREAMS_CONFIG}), with defaults that
 * run the embedded demo, printed at start with secrets masked.
 *
 * @param bootstrapServers  Kafka bootstrap servers
 * @param applicationId     Kafka Streams application id (consumer group, changelog prefix)
 * @param stateDir          where RocksDB state lives
 * @param applicationServer host:port other instances use for interactive queries ("" = none)
 * @param streamThreads     stream threads per instance
 * @param standbyReplicas   warm standby copies of each store (fast failover)
 * @param commitInterval    EOS transaction commit interval (latency vs throughput)
 * @param bank              what the topology itself needs
 * @param topicSettings     topic prefix, partitions, segment age, compaction lag
 * @param clientSecurity    security.*, sasl.*, ssl.* client settings passed through (masked when printed)
 * @param httpPort          port of the operator endpoint ({@code /metrics}, {@code /ready}); 0 = any free port
 *                          ({@code MARGINAL_STREAMS_HTTP_PORT}, default {@value #DEFAULT_HTTP_PORT})
 */
public record StreamsAppConfig(String bootstrapServers, String applicationId, Path stateDir, String applicationServer,
                               int streamThreads, int standbyReplicas, Duration commitInterval, BankSettings bank,
                               TopicSettings topicSettings, Map<String, String> clientSecurity, int httpPort) {

  /** Where {@code /metrics} and {@code /ready} listen unless {@code MARGINAL_STREAMS_HTTP_PORT} says otherwise. */
  public static final int DEFAULT_HTTP_PORT = 9101;

  /**
   * Settings of the memory-bank topology.
   *
   * @param feedbackWindow       how long (stream time) feedback waits for its interaction before it is dead-lettered
   * @param interactionRetention how long (stream time) served interactions are kept for joining; feedback
   *                             older than this on arrival is late and dead-lettered at once
   * @param maxEntriesPerUser    bank size bound; the oldest entries are evicted beyond it
   * @param maxRetainExamples    retain examples per unlearning request
   * @param baseModel            base model named in unlearning requests ({@code MARGINAL_BASE_MODEL}, default marginal-demo)
   * @param sweepInterval        stream-time interval of the expiry sweep
   */
  public record BankSettings(Duration feedbackWindow, Duration interactionRetention, int maxEntriesPerUser,
                             int maxRetainExamples, String baseModel, Duration sweepInterval) {

    public static BankSettings defaults() {
      return new BankSettings(Duration.ofMinutes(5), Duration.ofDays(1), 256, 64, "marginal-demo", Duration.ofSeconds(10));
    }

    public BankSettings {
      if (maxEntriesPerUser < 1) {
        throw new IllegalArgumentException("maxEntriesPerUser must be >= 1, got " + maxEntriesPerUser
            + "; set MARGINAL_STREAMS_MAX_ENTRIES_PER_USER to a positive number");
      }
      if (feedbackWindow.isNegative() || interactionRetention.isNegative() || sweepInterval.isZero() || sweepInterval.isNegative()) {
        throw new IllegalArgumentException("feedback window and interaction retention must be >= 0 and the sweep interval > 0; got "
            + feedbackWindow + ", " + interactionRetention + ", " + sweepInterval);
      }
    }
  }

  /** Names a properties file with the same keys; the environment and system properties override it. */
  public static final String CONFIG_FILE_KEY = "MARGINAL_STREAMS_CONFIG";

  public static StreamsAppConfig defaults() {
    return from(Map.of());
  }

  /** Environment variables overridden by system properties of the same name. */
  public static StreamsAppConfig fromEnvironment() {
    return from(Settings.environmentAndSystemProperties().overFileNamedBy(CONFIG_FILE_KEY));
  }

  public static StreamsAppConfig from(Map<String, String> env) {
    return from(Settings.of(env));
  }

  public static StreamsAppConfig from(Settings env) {
    BankSettings d = BankSettings.defaults();
    BankSettings bank = new BankSettings(
        env.getDuration("MARGINAL_STREAMS_FEEDBACK_WINDOW", d.feedbackWindow()),
        env.getDuration("MARGINAL_STREAMS_INTERACTION_RETENTION", d.interactionRetention()),
        env.getInt("MARGINAL_STREAMS_MAX_ENTRIES_PER_USER", d.maxEntriesPerUser()),
        env.getInt("MARGINAL_STREAMS_MAX_RETAIN_EXAMPLES", d.maxRetainExamples()),
        env.getString("MARGINAL_BASE_MODEL", d.baseModel()),
        env.getDuration("MARGINAL_STREAMS_SWEEP_INTERVAL", d.sweepInterval()));
    Map<String, String> security = new TreeMap<>();
    env.asDottedKeys("MARGINAL_KAFKA_").forEach((key, v) -> {
      if (key.startsWith("security.") || key.startsWith("sasl.") || key.startsWith("ssl.")) {
        security.put(key, v);
      }
    });
    return new StreamsAppConfig(
        env.getString("MARGINAL_BOOTSTRAP_SERVERS", "localhost:9092"),
        env.getString("MARGINAL_STREAMS_APPLICATION_ID", "marginal-streams"),
        env.getPath("MARGINAL_STREAMS_STATE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "marginal-streams")),
        env.getString("MARGINAL_STREAMS_APPLICATION_SERVER", ""),
        env.getInt("MARGINAL_STREAMS_THREADS", 1),
        env.getInt("MARGINAL_STREAMS_STANDBY_REPLICAS", 0),
        env.getDuration("MARGINAL_STREAMS_COMMIT_INTERVAL", Duration.ofMillis(100)),
        bank,
        TopicSettings.from(env),
        Map.copyOf(security),
        env.getInt("MARGINAL_STREAMS_HTTP_PORT", DEFAULT_HTTP_PORT));
  }

  public StreamsAppConfig withBootstrapServers(String servers) {
    return new StreamsAppConfig(servers, applicationId, stateDir, applicationServer, streamThreads, standbyReplicas,
        commitInterval, bank, topicSettings, clientSecurity, httpPort);
  }

  public StreamsAppConfig withState(String appId, Path dir) {
    return new StreamsAppConfig(bootstrapServers, appId, dir, applicationServer, streamThreads, standbyReplicas,
        commitInterval, bank, topicSettings, clientSecurity, httpPort);
  }

  public StreamsAppConfig withApplicationServer(String hostPort) {
    return new StreamsAppConfig(bootstrapServers, applicationId, stateDir, hostPort, streamThreads, standbyReplicas,
        commitInterval, bank, topicSettings, clientSecurity, httpPort);
  }

  public StreamsAppConfig withBank(BankSettings settings) {
    return new StreamsAppConfig(bootstrapServers, applicationId, stateDir, applicationServer, streamThreads, standbyReplicas,
        commitInterval, settings, topicSettings, clientSecurity, httpPort);
  }

  /** The same configuration with the operator endpoint on {@code port} (0 = any free port: tests, several apps in one JVM). */
  public StreamsAppConfig withHttpPort(int port) {
    return new StreamsAppConfig(bootstrapServers, applicationId, stateDir, applicationServer, streamThreads, standbyReplicas,
        commitInterval, bank, topicSettings, clientSecurity, port);
  }

  public Topics topics() {
    return new Topics(topicSettings);
  }

  /** Kafka Streams properties: exactly_once_v2, dead-lettering deserialization handler, our state dir. */
  public Properties toStreamsProperties() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, streamThreads);
    p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbyReplicas);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) topicSettings.replicationFactor());
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class);
    p.put(DeadLetterDeserializationHandler.DEAD_LETTER_TOPIC_CONFIG, topics().name(Topics.DEAD_LETTERS));
    p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, ErasingRocksDbConfig.class);
    p.put(ErasingRocksDbConfig.PERIODIC_COMPACTION_CONFIG, String.valueOf(topicSettings.segmentAge().toSeconds()));
    if (!applicationServer.isBlank()) {
      p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer);
    }
    p.putAll(clientSecurity);
    return p;
  }

  /** One line per setting, secrets masked; safe to log. */
  public String describe() {
    Map<String, Object> shown = new TreeMap<>();
    shown.put("bootstrapServers", bootstrapServers);
    shown.put("applicationId", applicationId);
    shown.put("stateDir", stateDir);
    shown.put("applicationServer", applicationServer);
    shown.put("streamThreads", streamThreads);
    shown.put("standbyReplicas", standbyReplicas);
    shown.put("commitInterval", commitInterval);
    shown.put("processingGuarantee", StreamsConfig.EXACTLY_ONCE_V2);
    shown.put("bank", bank);
    shown.put("topics", topicSettings);
    shown.put("httpPort", httpPort);
    clientSecurity.forEach((k, v) -> shown.put(k, isSecret(k) ? "****" : v));
    StringBuilder sb = new StringBuilder("streams configuration:");
    shown.forEach((k, v) -> sb.append("\n  ").append(k).append(" = ").append(v));
    return sb.toString();
  }

  static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.contains("password") || k.contains("jaas") || k.contains("secret") || k.contains("token") || k.contains("key");
  }
}
