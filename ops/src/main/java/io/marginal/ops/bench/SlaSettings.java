package io.marginal.ops.bench;

import io.marginal.config.Cli;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * What the forgetting-SLA benchmark runs: per phase (idle, then under chat load),
 * {@code dataDeletions} interaction deletions and {@code conceptDeletions} concept deletions that
 * each need a new adapter; {@code chatClients} concurrent chat threads of load; {@code nodes}
 * inference nodes; the report, if {@code out} is set, is also written there as Markdown.
 */
record SlaSettings(int dataDeletions, int conceptDeletions, int chatClients, int nodes, Path out) {

  SlaSettings {
    if (dataDeletions < 1 || conceptDeletions < 0 || chatClients < 1 || nodes < 1) {
      throw new IllegalArgumentException("need at least 1 data deletion, 1 chat client and 1 node; concept deletions >= 0");
    }
  }

  /** The benchmark's command-line options (picocli). */
  static final class Options {
    @Option(names = "--data-deletions", paramLabel = "N", description = "Interaction deletions per phase.")
    int dataDeletions = 40;

    @Option(names = "--concept-deletions", paramLabel = "N", description = "Concept deletions per phase; each trains an adapter.")
    int conceptDeletions = 2;

    @Option(names = "--chat-clients", paramLabel = "N", description = "Concurrent chat threads during the loaded phase.")
    int chatClients = 2;

    @Option(names = "--nodes", paramLabel = "N", description = "Inference nodes.")
    int nodes = 2;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the result table as Markdown to FILE.")
    Path out;

    SlaSettings settings() {
      return new SlaSettings(dataDeletions, conceptDeletions, chatClients, nodes, out);
    }
  }

  /**
   * Parses the benchmark's flags.
   *
   * @throws IllegalArgumentException for an unknown flag or a bad value
   */
  static SlaSettings parse(String[] args) {
    return Cli.parse(new Options(), args).settings();
  }
}
