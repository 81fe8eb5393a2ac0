package io.marginal.kafka.embedded;

import io.marginal.config.Cli;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kafka.Kafka} for a broker that is a child of a launcher: it exits when the launcher does,
 * even on {@code kill -9}. The launcher holds the write end of this process's standard input; when
 * the launcher dies the pipe closes, the read below returns end-of-file, and the broker shuts down
 * cleanly (its own shutdown hook) instead of living on as an orphan holding the port and the log.
 */
public final class BrokerMain {

  private BrokerMain() {
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "BrokerMain", description = {"A Kafka broker (kafka.Kafka) that stops when its launcher does: when standard input",
      "reaches end-of-file. Started by the local launcher with --broker-process."})
  static final class Main implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SERVER_PROPERTIES", description = "The broker's server.properties.")
    Path serverProperties;

    @Option(names = "--override", paramLabel = "PROPERTY=VALUE", description = "Overrides one broker property (passed to kafka.Kafka).")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      if (!Files.isRegularFile(serverProperties)) {
        throw new IllegalArgumentException("SERVER_PROPERTIES " + serverProperties.toAbsolutePath() + " is not a file");
      }
      exitWithLauncher();
      List<String> kafkaArgs = new ArrayList<>(List.of(serverProperties.toString()));
      overrides.forEach(o -> kafkaArgs.addAll(List.of("--override", o)));
      kafka.Kafka.main(kafkaArgs.toArray(String[]::new));
      return 0;
    }
  }

  private static void exitWithLauncher() {
    Thread watch = new Thread(() -> {
      try (InputStream in = System.in) {
        while (in.read() >= 0) {
          // the launcher never writes; only the end of the stream matters
        }
      } catch (IOException e) {
        // a broken pipe means the same: the launcher is gone
      }
      System.err.println("launcher gone (stdin closed); stopping the broker");
      System.exit(0);
    }, "exit-with-launcher");
    watch.setDaemon(true);
    watch.start();
  }
}
