package io.marginal.ops.bench;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import io.marginal.inference.InferenceNode;
import io.marginal.ops.LauncherConfig;
import io.marginal.ops.LocalLauncher;
import io.marginal.ops.demo.ChatClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The forgetting SLA, measured: the whole system in this process (embedded broker, streams app,
 * trainer, several inference nodes sharing the demo model), deletions sent through the HTTP API
 * one after another, first on an idle system (the baseline), then under concurrent chat load.
 * Prints p50/p99 of the time to (a) data unreachable on every node, (b) the deletion receipt,
 * (c) the covering adapter live on every node, with the loaded/idle ratios.
 *
 * <p>{@code mvn -q -Pbench -DskipTests verify [-Dbench.args="--data-deletions 40 --concept-deletions 2"]}
 */
public final class ForgettingSlaBenchmark {

  private ForgettingSlaBenchmark() {
  }

  static String keyOf(String user) {
    return "sk-" + user;
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "ForgettingSlaBenchmark", description = {"Forgetting SLA: how long interaction and concept deletions take until they are",
      "honoured (idle, then under chat load), on the whole system in one JVM."})
  static final class Main implements Callable<Integer> {
    @Mixin
    SlaSettings.Options options;

    @Override
    public Integer call() throws Exception {
      SlaSettings settings = options.settings();
      String report = run(settings, System.out);
      if (settings.out() != null) {
        Files.writeString(settings.out(), report);
        System.out.println("written to " + settings.out().toAbsolutePath());
      }
      System.exit(0);
      return 0;
    }
  }

  /** Runs both phases and returns the result table (Markdown). */
  static String run(SlaSettings settings, PrintStream out) throws IOException, InterruptedException {
    Function<String, List<String>> users = prefix -> IntStream.range(0, settings.dataDeletions()).mapToObj(i -> prefix + i).toList();
    List<String> idleData = users.apply("sla-idle-d");
    List<String> loadData = users.apply("sla-load-d");
    List<String> idleConcept = IntStream.range(0, settings.conceptDeletions()).mapToObj(i -> "sla-idle-c" + i).toList();
    List<String> loadConcept = IntStream.range(0, settings.conceptDeletions()).mapToObj(i -> "sla-load-c" + i).toList();
    List<String> chatters = IntStream.range(0, settings.chatClients()).mapToObj(i -> "sla-chatter" + i).toList();
    List<String> everyone = new ArrayList<>();
    List.of(idleData, loadData, idleConcept, loadConcept, chatters).forEach(everyone::addAll);
    String keys = everyone.stream().map(u -> keyOf(u) + ":" + u).collect(Collectors.joining(","));

    Path dir = Files.createTempDirectory("marginal-sla");
    LauncherConfig config = new LauncherConfig(dir, "", 0, false, true, true, settings.nodes());
    LocalLauncher launcher = new LocalLauncher(config, Map.of("MARGINAL_HTTP_PORT", "0", "MARGINAL_STREAMS_HTTP_PORT", "0", "MARGINAL_TRAINER_HTTP_PORT", "0",
        "MARGINAL_API_KEYS", keys,
        "MARGINAL_ADMIN_KEY", "sk-sla-admin"));
    try {
      launcher.start();
      List<InferenceNode> nodes = launcher.inferenceNodes();
      try (EventClock clock = new EventClock(launcher.bootstrapServers(), launcher.topics())) {
        out.printf("%nForgetting SLA: %d inference nodes; phase 1 idle, phase 2 with %d chat clients%n", nodes.size(),
            settings.chatClients());
        SlaPhase.Result idle = new SlaPhase("idle", nodes, clock, out).run(idleData, idleConcept);
        SlaPhase.Result loaded;
        ChatLoad load = new ChatLoad(chatters.stream()
            .map(u -> nodes.stream().map(n -> new ChatClient(n.baseUrl(), keyOf(u))).toList()).toList());
        try {
          loaded = new SlaPhase("chat load", nodes, clock, out).run(loadData, loadConcept);
        } finally {
          load.close();
        }
        String table = table(settings, nodes.size(), idle, loaded, load);
        out.println();
        out.println(table);
        return table;
      }
    } finally {
      launcher.stop();
    }
  }

  static String table(SlaSettings settings, int nodes, SlaPhase.Result idle, SlaPhase.Result loaded, ChatLoad load) {
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "Forgetting SLA — %d inference nodes, demo model on %d CPU cores; "
        + "idle baseline vs. %d concurrent chat clients (same process, same run)%n%n", nodes,
        Runtime.getRuntime().availableProcessors(), settings.chatClients()));
    md.append("| from the deletion request to … | idle n | idle p50 | idle p99 | load n | load p50 | load p99 | p50 load/idle | p99 load/idle |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    row(md, "(a) data unreachable on every node", idle.unreachable, loaded.unreachable);
    row(md, "(b) deletion receipt COMPLETED (interaction)", idle.dataReceipt, loaded.dataReceipt);
    row(md, "(b) deletion receipt PENDING_UNLEARNING (concept)", idle.conceptReceipt, loaded.conceptReceipt);
    row(md, "(b) receipt UNLEARNED (adapter trained, gated, stored)", idle.unlearnedReceipt, loaded.unlearnedReceipt);
    row(md, "(c) covering adapter live on every node", idle.adapterLive, loaded.adapterLive);
    LatencyStats chat = load.latency();
    md.append(String.format(Locale.ROOT, "%nChat load during phase 2: %d requests, %.1f req/s, latency p50 %.0f ms, p99 %.0f ms, %d errors.%n",
        load.completed(), load.requestsPerSecond(), chat.p50(), chat.p99(), load.errors()));
    int checks = idle.checks + loaded.checks;
    int passed = idle.checksPassed + loaded.checksPassed;
    md.append(String.format(Locale.ROOT, "Checks (the model answered; through every node's HTTP API after each deletion: data gone, concept not produced): %d/%d passed.%n",
        passed, checks));
    List<String> failures = new ArrayList<>(idle.failures);
    failures.addAll(loaded.failures);
    failures.stream().limit(10).forEach(f -> md.append("- failed: ").append(f).append('\n'));
    return md.toString();
  }

  private static void row(StringBuilder md, String label, List<Double> idle, List<Double> loaded) {
    LatencyStats a = LatencyStats.of(idle);
    LatencyStats b = LatencyStats.of(loaded);
    md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %d | %s | %s | %s | %s |%n", label, a.count(), ms(a.p50()), ms(a.p99()),
        b.count(), ms(b.p50()), ms(b.p99()), ratio(b.p50(), a.p50()), ratio(b.p99(), a.p99())));
  }

  private static String ms(double value) {
    return Double.isNaN(value) ? "–" : value >= 10_000 ? String.format(Locale.ROOT, "%.1f s", value / 1000)
        : String.format(Locale.ROOT, "%.0f ms", value);
  }

  private static String ratio(double loaded, double idle) {
    return Double.isNaN(loaded) || Double.isNaN(idle) || idle == 0 ? "–" : String.format(Locale.ROOT, "%.2f×", loaded / idle);
  }
}
