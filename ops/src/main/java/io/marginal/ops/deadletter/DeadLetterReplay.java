package io.marginal.ops.deadletter;

import io.marginal.schemas.topics.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * {@code replay-dead-letters}: writes dead-lettered records back to their source topics (see
 * {@link DeadLetterReplayer}). Prints one line per letter and a summary; exits 1 when a letter could not be
 * replayed, 2 on bad usage.
 */
public final class DeadLetterReplay {

  static final String USAGE = """
      usage: DeadLetterReplay [--bootstrap HOST:PORT] [--topic DLQ] [--source-topic TOPIC] [--application NAME]
                              [--from-offset N] [--dry-run] [--timeout-s S]
        --bootstrap      Kafka bootstrap servers (default: $MARGINAL_BOOTSTRAP_SERVERS, else localhost:9092)
        --topic          the dead-letter topic (default: %s)
        --source-topic   only letters of records from this topic
        --application    only letters written by this service (e.g. marginal-streams, inference-node-1, trainer-1)
        --from-offset    N (every partition) or P:N,P:N (default 0; each run prints where the next may start)
        --dry-run        list what would be replayed, write nothing
        --timeout-s      how long reading the topic to its end may take (default 60)
      """.formatted(Topics.defaults().name(Topics.DEAD_LETTERS));

  private DeadLetterReplay() {
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = Optional.ofNullable(System.getenv("MARGINAL_BOOTSTRAP_SERVERS")).orElse("localhost:9092");
    String topic = Topics.defaults().name(Topics.DEAD_LETTERS);
    Optional<String> source = Optional.empty();
    Optional<String> application = Optional.empty();
    Map<Integer, Long> from = Map.of();
    boolean dryRun = false;
    long timeout = 60;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--bootstrap" -> bootstrap = value(args, ++i);
          case "--topic" -> topic = value(args, ++i);
          case "--source-topic" -> source = Optional.of(value(args, ++i));
          case "--application" -> application = Optional.of(value(args, ++i));
          case "--from-offset" -> from = DeadLetterReplayer.Selection.parseOffsets(value(args, ++i));
          case "--timeout-s" -> timeout = Long.parseLong(value(args, ++i));
          case "--dry-run" -> dryRun = true;
          case "--help", "-h" -> {
            System.out.print(USAGE);
            return;
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println("DeadLetterReplay: " + e.getMessage());
      System.err.print(USAGE);
      System.exit(2);
    }
    DeadLetterReplayer.Report report = new DeadLetterReplayer(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap), topic)
        .replay(new DeadLetterReplayer.Selection(source, application, from), dryRun, Duration.ofSeconds(timeout));
    report.outcomes().forEach(System.out::println);
    System.out.printf("%d replayed, %d would be replayed (dry run), %d cannot be replayed; to see only newer letters next time: --from-offset %s%n",
        report.count(DeadLetterReplayer.Action.REPLAYED), report.count(DeadLetterReplayer.Action.WOULD_REPLAY),
        report.count(DeadLetterReplayer.Action.UNREPLAYABLE), report.resumeFrom());
    if (report.count(DeadLetterReplayer.Action.UNREPLAYABLE) > 0) {
      System.exit(1);
    }
  }

  private static String value(String[] args, int i) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }
}
