package io.marginal.trainer.config;

import io.marginal.config.Settings;
import io.marginal.schemas.topics.TopicSettings;
import io.marginal.schemas.topics.Topics;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The trainer node's configuration: Kafka, the adapter store, the base model. Read from the
 * environment ({@code MARGINAL_*}) over an optional properties file with the same keys
 * ({@code MARGINAL_TRAINER_CONFIG}), with defaults that run the embedded demo.
 *
 * @param bootstrapServers Kafka ({@code MARGINAL_BOOTSTRAP_SERVERS}, default localhost:9092)
 * @param clientSecurity   extra client settings such as {@code security.protocol}, from {@code MARGINAL_KAFKA_*} keys
 * @param topics           topic names and settings ({@code MARGINAL_TOPIC_*})
 * @param groupId          the trainer consumer group: one member per GPU ({@code MARGINAL_TRAINER_GROUP})
 * @param nodeId           this member ({@code MARGINAL_NODE_ID}, default host name)
 * @param adapterStore     root of the directory adapter store ({@code MARGINAL_ADAPTER_STORE}, default var/adapters)
 * @param workDir          scratch space for adapters in training ({@code MARGINAL_TRAINER_WORK_DIR})
 * @param baseModel        the base model name requests must name ({@code MARGINAL_BASE_MODEL}, default marginal-demo)
 * @param maxJobDuration   longest a job may take before the group considers the member dead ({@code MARGINAL_TRAINER_MAX_JOB})
 * @param httpPort         port of {@code /metrics} and {@code /ready} ({@code MARGINAL_TRAINER_HTTP_PORT}, default
 *                         {@value #DEFAULT_HTTP_PORT}; 0 = any free port)
 */
public record TrainerConfig(String bootstrapServers, Map<String, Object> clientSecurity, Topics topics, String groupId,
                            String nodeId, Path adapterStore, Path workDir, String baseModel, Duration maxJobDuration,
                            int httpPort) {

  /** Where {@code /metrics} and {@code /ready} listen unless {@code MARGINAL_TRAINER_HTTP_PORT} says otherwise. */
  public static final int DEFAULT_HTTP_PORT = 9102;

  /** Names a properties file with the same keys; the environment overrides it. */
  public static final String CONFIG_FILE_KEY = "MARGINAL_TRAINER_CONFIG";

  /** Reads the keys from {@code env}, after those of the file named by {@code MARGINAL_TRAINER_CONFIG}. */
  public static TrainerConfig fromEnvironment(Map<String, String> env) {
    return from(Settings.of(env).overFileNamedBy(CONFIG_FILE_KEY));
  }

  public static TrainerConfig from(Settings env) {
    return new TrainerConfig(
        env.getString("MARGINAL_BOOTSTRAP_SERVERS", "localhost:9092"),
        Map.copyOf(env.asDottedKeys("MARGINAL_KAFKA_")),
        new Topics(TopicSettings.from(env)),
        env.getString("MARGINAL_TRAINER_GROUP", "marginal-trainer"),
        env.getString("MARGINAL_NODE_ID", hostName()),
        env.getPath("MARGINAL_ADAPTER_STORE", Path.of("var/adapters")),
        env.getPath("MARGINAL_TRAINER_WORK_DIR", Path.of("var/trainer-work")),
        env.getString("MARGINAL_BASE_MODEL", "marginal-demo"),
        env.getDuration("MARGINAL_TRAINER_MAX_JOB", Duration.ofMinutes(30)),
        port(env.getString("MARGINAL_TRAINER_HTTP_PORT", String.valueOf(DEFAULT_HTTP_PORT))));
  }

  public TrainerConfig withBootstrapServers(String servers) {
    return new TrainerConfig(servers, clientSecurity, topics, groupId, nodeId, adapterStore, workDir, baseModel, maxJobDuration,
        httpPort);
  }

  /** The same configuration with {@code /metrics} and {@code /ready} on {@code port} (0 = any free port). */
  public TrainerConfig withHttpPort(int port) {
    return new TrainerConfig(bootstrapServers, clientSecurity, topics, groupId, nodeId, adapterStore, workDir, baseModel,
        maxJobDuration, port);
  }

  private static int port(String value) {
    try {
      int port = Integer.parseInt(value.trim());
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("MARGINAL_TRAINER_HTTP_PORT=" + value + " is not a port; use 0-65535 (0 = any free port)");
    }
  }

  private static String hostName() {
    try {
      return "trainer-" + InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "trainer-1";
    }
  }

  /** For the start-up log line: passwords and secrets masked. */
  @Override
  public String toString() {
    String security = clientSecurity.entrySet().stream()
        .map(e -> e.getKey() + "=" + (e.getKey().contains("password") || e.getKey().contains("jaas") || e.getKey().contains("secret")
            ? "****" : e.getValue()))
        .collect(Collectors.joining(", ", "{", "}"));
    return "TrainerConfig[bootstrapServers=" + bootstrapServers + ", security=" + security + ", topicPrefix="
        + topics.settings().prefix() + ", groupId=" + groupId + ", nodeId=" + nodeId + ", adapterStore="
        + adapterStore.toAbsolutePath() + ", baseModel=" + baseModel + ", maxJobDuration=" + maxJobDuration + ", httpPort=" + httpPort + "]";
  }
}
