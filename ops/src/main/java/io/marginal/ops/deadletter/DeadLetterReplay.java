package io.marginal.ops.deadletter;

import io.marginal.config.Cli;
import io.marginal.schemas.serde.TrustedPackages;
import io.marginal.schemas.topics.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code DeadLetterReplay}: writes dead-lettered records back to their source topics (see
 * {@link DeadLetterReplayer}). Prints one line per letter and a summary; exits 1 when a letter could not be
 * replayed, 2 on bad usage.
 */
public final class DeadLetterReplay {

  private DeadLetterReplay() {
  }

  public static void main(String[] args) {
    TrustedPackages.allowMarginalClasses();
    Cli.run(new Main(), args);
  }

  @Command(name = "DeadLetterReplay", description = {"Writes dead-lettered records back to the topics they came from (original key",
      "and value bytes, with a __marginal.replay.of header); truncated letters are listed, not replayed."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
        description = "Kafka bootstrap servers (default: $MARGINAL_BOOTSTRAP_SERVERS, else localhost:9092).")
    String bootstrap = Optional.ofNullable(System.getenv("MARGINAL_BOOTSTRAP_SERVERS")).orElse("localhost:9092");

    @Option(names = "--topic", paramLabel = "DLQ", description = "The dead-letter topic.")
    String topic = Topics.defaults().name(Topics.DEAD_LETTERS);

    @Option(names = "--source-topic", paramLabel = "TOPIC", description = "Only letters of records from this topic.")
    String sourceTopic;

    @Option(names = "--application", paramLabel = "NAME",
        description = "Only letters written by this service (e.g. marginal-streams, inference-local-1, the trainer's node id).")
    String application;

    @Option(names = "--from-offset", paramLabel = "N|P:N,...",
        description = "Start at offset N in every partition, or per partition (as a run prints it); default 0.")
    String fromOffset = "0";

    @Option(names = "--dry-run", description = "List what would be replayed; write nothing.")
    boolean dryRun;

    @Option(names = "--timeout-s", paramLabel = "S", description = "How long reading the topic to its end may take.")
    long timeoutSeconds = 60;

    @Override
    public Integer call() throws Exception {
      if (timeoutSeconds < 1) {
        throw new IllegalArgumentException("--timeout-s must be >= 1");
      }
      DeadLetterReplayer.Selection selection = new DeadLetterReplayer.Selection(Optional.ofNullable(sourceTopic),
          Optional.ofNullable(application), DeadLetterReplayer.Selection.parseOffsets(fromOffset));
      DeadLetterReplayer.Report report = new DeadLetterReplayer(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap), topic)
          .replay(selection, dryRun, Duration.ofSeconds(timeoutSeconds));
      report.outcomes().forEach(System.out::println);
      System.out.printf("%d replayed, %d would be replayed (dry run), %d cannot be replayed; to see only newer letters next time:"
              + " --from-offset %s%n", report.count(DeadLetterReplayer.Action.REPLAYED),
          report.count(DeadLetterReplayer.Action.WOULD_REPLAY), report.count(DeadLetterReplayer.Action.UNREPLAYABLE),
          report.resumeFrom());
      return report.count(DeadLetterReplayer.Action.UNREPLAYABLE) > 0 ? 1 : 0;
    }
  }
}
