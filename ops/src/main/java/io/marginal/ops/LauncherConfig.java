package io.marginal.ops;

import io.marginal.config.Cli;
import io.marginal.config.Settings;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Everything the local launcher can be told, from command-line flags ({@link Options}) over
 * environment variables over defaults that run the embedded demo.
 *
 * @param dataDir          where the broker log and service state live ({@code MARGINAL_DATA_DIR}, default ./var)
 * @param bootstrapServers an existing cluster to use instead of starting a broker ({@code MARGINAL_BOOTSTRAP_SERVERS})
 * @param brokerPort       client port of the embedded broker ({@code MARGINAL_BROKER_PORT}, default 9092)
 * @param brokerAsProcess  run the embedded broker as a child JVM rather than in-process
 * @param servicesOnly     start the services and wait, without playing the demo scenario
 * @param fresh            wipe the data directory first
 * @param inferenceNodes   inference nodes to start, sharing the loaded model ({@code MARGINAL_INFERENCE_NODES}, default 1)
 */
public record LauncherConfig(Path dataDir, String bootstrapServers, int brokerPort, boolean brokerAsProcess,
                             boolean servicesOnly, boolean fresh, int inferenceNodes) {

  public boolean embeddedBroker() {
    return bootstrapServers == null || bootstrapServers.isBlank();
  }

  /** The launcher's command-line options (picocli); values not given come from the environment, then the defaults. */
  public static final class Options {
    @Option(names = "--services-only", description = "Start broker and services, print where they listen, wait for Ctrl-C"
        + " (without it: start everything, play the demo scenario in DIR/demo, wiped first, and exit 0 if every check passed).")
    boolean servicesOnly;

    @Option(names = "--broker-process", description = "Run the embedded Kafka broker as a separate JVM instead of in-process.")
    boolean brokerProcess;

    @Option(names = "--fresh", description = "Delete the data directory before starting.")
    boolean fresh;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Broker log and service state (default: MARGINAL_DATA_DIR, else var).")
    String dataDir;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
        description = "Use this Kafka cluster and start no broker (default: MARGINAL_BOOTSTRAP_SERVERS).")
    String bootstrapServers;

    @Option(names = "--broker-port", paramLabel = "PORT", description = "Embedded broker client port (default: MARGINAL_BROKER_PORT, else 9092).")
    String brokerPort;

    @Option(names = "--inference-nodes", paramLabel = "N",
        description = "Inference nodes local-1..N on ports 8080.. (default: MARGINAL_INFERENCE_NODES, else 1).")
    String inferenceNodes;

    /** These options over {@code env} over the defaults. */
    public LauncherConfig toConfig(Map<String, String> env) {
      Settings settings = Settings.of(env);
      Path dir = dataDir != null ? Path.of(dataDir) : settings.getPath("MARGINAL_DATA_DIR", Path.of("var"));
      String bootstrap = bootstrapServers != null ? bootstrapServers : settings.getString("MARGINAL_BOOTSTRAP_SERVERS", "");
      int port = brokerPort != null ? parsePort(brokerPort) : settings.getInt("MARGINAL_BROKER_PORT", 9092);
      int nodes = inferenceNodes != null ? positive("--inference-nodes", inferenceNodes)
          : positive("MARGINAL_INFERENCE_NODES", settings.getString("MARGINAL_INFERENCE_NODES", "1"));
      boolean wipe = fresh;
      if (!servicesOnly) {
        // The scenario tells a story from an empty system: it gets its own data directory, wiped each run,
        // so that it never touches (or is confused by) what a --services-only run keeps in the data directory.
        dir = dir.resolve("demo");
        wipe = true;
      }
      return new LauncherConfig(dir, bootstrap, port, brokerProcess, servicesOnly, wipe, nodes);
    }
  }

  /**
   * Parses the launcher's flags over {@code env}.
   *
   * @throws IllegalArgumentException naming the flag or variable and the bad value
   */
  public static LauncherConfig parse(String[] args, Map<String, String> env) {
    return Cli.parse(new Options(), args).toConfig(env);
  }

  private static int positive(String name, String text) {
    try {
      int n = Integer.parseInt(text.trim());
      if (n < 1 || n > 64) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number of nodes between 1 and 64, got " + text);
    }
  }

  private static int parsePort(String text) {
    try {
      int port = Integer.parseInt(text);
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--broker-port must be a port number (0-65535), got " + text);
    }
  }

  @Override
  public String toString() {
    return "dataDir=" + dataDir.toAbsolutePath() + ", kafka=" + (embeddedBroker()
        ? "embedded broker on port " + brokerPort + (brokerAsProcess ? " (child process)" : " (in-process)")
        : bootstrapServers) + ", inferenceNodes=" + inferenceNodes + ", servicesOnly=" + servicesOnly + ", fresh=" + fresh;
  }
}
