package io.marginal.ops;

import io.marginal.trainer.TrainerMain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The trainer node as its own JVM ({@link TrainerMain}), as in the distributed layout. Training
 * and serving never share a process: a native fault or a memory spike in a training job cannot take
 * the inference nodes down, and autograd never runs beside serving threads in one PyTorch runtime.
 * Its log goes to a file; {@link #close} asks it to finish the current request and stop.
 */
final class TrainerProcess implements AutoCloseable {

  private static final String READY_LINE = "consuming";

  private final Process process;
  private final Path log;

  private TrainerProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Starts the trainer with {@code env} as its environment and waits until it consumes its topic. */
  static TrainerProcess start(Map<String, String> env, Path log, Duration timeout) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + env.getOrDefault("MARGINAL_TRAINER_HEAP", "3g")));
    // The same engine settings as this JVM (offline DJL, PyTorch engine, thread counts); its own log levels:
    // progress at INFO, Kafka clients at WARN (the launcher waits for the "consuming" line).
    System.getProperties().forEach((k, v) -> {
      if (k.toString().startsWith("ai.djl.")) {
        command.add("-D" + k + "=" + v);
      }
    });
    command.addAll(List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-Dorg.slf4j.simpleLogger.log.org.apache.kafka=warn",
        "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS"));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainerMain.class.getName()));
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().putAll(env);
      builder.environment().putIfAbsent("DJL_OFFLINE", "true");
      TrainerProcess trainer = new TrainerProcess(builder.start(), log);
      trainer.awaitReady(timeout);
      return trainer;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the trainer process: " + e.getMessage(), e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the trainer process exited with " + process.exitValue() + ":\n" + tail());
      }
      if (logText().contains(READY_LINE)) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the trainer", e);
      }
    }
    close();
    throw new IllegalStateException("the trainer process was not consuming after " + timeout + ":\n" + tail());
  }

  long pid() {
    return process.pid();
  }

  Path log() {
    return log;
  }

  private String logText() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private String tail() {
    String text = logText();
    return text.length() <= 4000 ? text : "…" + text.substring(text.length() - 4000);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(Duration.ofSeconds(40).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
