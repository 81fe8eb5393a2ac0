package io.marginal.ops.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the forgetting-SLA benchmark runs: per phase (idle, then under chat load),
 * {@code dataDeletions} interaction deletions and {@code conceptDeletions} concept deletions that
 * each need a new adapter; {@code chatClients} concurrent chat threads of load; {@code nodes}
 * inference nodes; the report, if {@code out} is set, is also written there as Markdown.
 */
record SlaSettings(int dataDeletions, int conceptDeletions, int chatClients, int nodes, Path out) {

  static final String USAGE = """
      usage: ForgettingSlaBenchmark [--data-deletions N] [--concept-deletions N] [--chat-clients N] [--nodes N] [--out FILE]
        --data-deletions N     interaction deletions per phase (default 40)
        --concept-deletions N  concept deletions per phase, each trains an adapter (default 2)
        --chat-clients N       concurrent chat threads during the loaded phase (default 2)
        --nodes N              inference nodes (default 2)
        --out FILE             also write the result table as Markdown to FILE
      """;

  SlaSettings {
    if (dataDeletions < 1 || conceptDeletions < 0 || chatClients < 1 || nodes < 1) {
      throw new IllegalArgumentException("need at least 1 data deletion, 1 chat client and 1 node; concept deletions >= 0\n" + USAGE);
    }
  }

  static SlaSettings parse(String[] args) {
    int data = 40;
    int concept = 2;
    int clients = 2;
    int nodes = 2;
    Path out = null;
    List<String> rest = new ArrayList<>(List.of(args));
    while (!rest.isEmpty()) {
      String flag = rest.remove(0);
      switch (flag) {
        case "--data-deletions" -> data = number(flag, rest);
        case "--concept-deletions" -> concept = number(flag, rest);
        case "--chat-clients" -> clients = number(flag, rest);
        case "--nodes" -> nodes = number(flag, rest);
        case "--out" -> out = Path.of(value(flag, rest));
        case "--help", "-h" -> throw new IllegalArgumentException(USAGE);
        default -> throw new IllegalArgumentException("unknown option " + flag + "\n" + USAGE);
      }
    }
    return new SlaSettings(data, concept, clients, nodes, out);
  }

  private static int number(String flag, List<String> rest) {
    String text = value(flag, rest);
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs a whole number, got " + text + "\n" + USAGE);
    }
  }

  private static String value(String flag, List<String> rest) {
    if (rest.isEmpty()) {
      throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
    }
    return rest.remove(0);
  }
}
