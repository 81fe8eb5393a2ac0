package io.marginal.ops;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Everything the local launcher can be told, from command-line flags over environment variables
 * over defaults that run the embedded demo.
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

  public static final String USAGE = """
      usage: LocalLauncher [--services-only] [--broker-process] [--fresh] [--data-dir DIR]
                           [--bootstrap-servers HOST:PORT] [--broker-port PORT] [--inference-nodes N]
        (no flag)             start everything, play the demo scenario in DIR/demo (wiped first), exit 0 if every check passed
        --services-only       start broker and services, print where they listen, wait for Ctrl-C
        --broker-process      run the embedded Kafka broker as a separate JVM instead of in-process
        --fresh               delete the data directory before starting
        --data-dir DIR        broker log and service state (default ./var, env MARGINAL_DATA_DIR)
        --bootstrap-servers   use this Kafka cluster, start no broker (env MARGINAL_BOOTSTRAP_SERVERS)
        --broker-port PORT    embedded broker client port (default 9092, env MARGINAL_BROKER_PORT)
        --inference-nodes N   inference nodes local-1..N on ports 8080.. (default 1, env MARGINAL_INFERENCE_NODES)
      """;

  public boolean embeddedBroker() {
    return bootstrapServers == null || bootstrapServers.isBlank();
  }

  public static LauncherConfig parse(String[] args, Map<String, String> env) {
    Path dataDir = Path.of(env.getOrDefault("MARGINAL_DATA_DIR", "var"));
    String bootstrap = env.getOrDefault("MARGINAL_BOOTSTRAP_SERVERS", "");
    int port = Integer.parseInt(env.getOrDefault("MARGINAL_BROKER_PORT", "9092"));
    boolean process = false;
    boolean servicesOnly = false;
    boolean fresh = false;
    int nodes = positive("MARGINAL_INFERENCE_NODES", env.getOrDefault("MARGINAL_INFERENCE_NODES", "1"));
    List<String> rest = new ArrayList<>(List.of(args));
    while (!rest.isEmpty()) {
      String flag = rest.remove(0);
      switch (flag) {
        case "--services-only" -> servicesOnly = true;
        case "--broker-process" -> process = true;
        case "--fresh" -> fresh = true;
        case "--data-dir" -> dataDir = Path.of(value(flag, rest));
        case "--bootstrap-servers" -> bootstrap = value(flag, rest);
        case "--broker-port" -> port = parsePort(value(flag, rest));
        case "--inference-nodes" -> nodes = positive(flag, value(flag, rest));
        case "--help", "-h" -> throw new IllegalArgumentException(USAGE);
        default -> throw new IllegalArgumentException("unknown option " + flag + "\n" + USAGE);
      }
    }
    if (!servicesOnly) {
      // The scenario tells a story from an empty system: it gets its own data directory, wiped each run,
      // so that it never touches (or is confused by) what a --services-only run keeps in the data directory.
      dataDir = dataDir.resolve("demo");
      fresh = true;
    }
    return new LauncherConfig(dataDir, bootstrap, port, process, servicesOnly, fresh, nodes);
  }

  private static String value(String flag, List<String> rest) {
    if (rest.isEmpty() || rest.get(0).startsWith("--")) {
      throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
    }
    return rest.remove(0);
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
