package io.marginal.kafka.embedded;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The same single-node KRaft broker as a separate JVM ({@code kafka.Kafka server.properties}, through
 * {@link BrokerMain} so that it stops when this process dies, even on {@code kill -9}),
 * for the distributed layout on one machine: services connect to it over the network exactly as
 * they would to a cluster. Uses this JVM's classpath, which already holds the broker jars.
 */
public final class BrokerProcess implements AutoCloseable {

  private final BrokerSettings settings;
  private final Process process;

  private BrokerProcess(BrokerSettings settings, Process process) {
    this.settings = settings;
    this.process = process;
  }

  public static BrokerProcess start(BrokerSettings settings, Path logFile, Duration timeout) {
    StorageFormatter.formatIfNeeded(settings);
    try {
      Path config = settings.dataDir().getParent().resolve("server-" + settings.port() + ".properties");
      StorageFormatter.writeProperties(settings.toProperties(), config);
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      Files.createDirectories(logFile.toAbsolutePath().getParent());
      Process process = new ProcessBuilder(List.of(java.toString(), "-Xmx1g", "-cp", System.getProperty("java.class.path"),
          BrokerMain.class.getName(), config.toString()))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .start();
      BrokerProcess broker = new BrokerProcess(settings, process);
      broker.awaitListening(timeout, logFile.toFile());
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the Kafka broker process", e);
    }
  }

  private void awaitListening(Duration timeout, File log) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("Kafka broker process exited with " + process.exitValue() + "; see " + log);
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", settings.port()), 500);
        return;
      } catch (IOException notYet) {
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for the broker", e);
        }
      }
    }
    close();
    throw new IllegalStateException("Kafka broker process not listening on " + settings.bootstrapServers() + " after " + timeout + "; see " + log);
  }

  public String bootstrapServers() {
    return settings.bootstrapServers();
  }

  public long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
