package io.marginal.ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child JVM that the launcher keeps running: started, awaited until it logs its ready line (read
 * only from what this start wrote, never an old line of the appended log), and restarted with
 * exponential backoff (1 s doubling to 30 s; back to 1 s after a minute up) whenever it exits
 * without being asked to. The child's standard input stays an open pipe from this process: a child
 * that watches it (see {@code MARGINAL_EXIT_WITH_LAUNCHER}) exits when the launcher dies, even on
 * {@code kill -9}.
 */
final class SupervisedProcess implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SupervisedProcess.class);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  static final Duration STABLE_UPTIME = Duration.ofSeconds(60);

  private final String name;
  private final List<String> command;
  private final Map<String, String> env;
  private final Path log;
  private final String readyLine;
  private final Duration readyTimeout;
  private final AtomicInteger restarts = new AtomicInteger();
  private final Thread supervisor;
  private volatile Process process;
  private volatile long startedAt;
  private volatile boolean closing;
  private volatile boolean ready;

  private SupervisedProcess(String name, List<String> command, Map<String, String> env, Path log, String readyLine,
      Duration readyTimeout) {
    this.name = name;
    this.command = List.copyOf(command);
    this.env = Map.copyOf(env);
    this.log = log;
    this.readyLine = readyLine;
    this.readyTimeout = readyTimeout;
    this.supervisor = new Thread(this::supervise, name + "-supervisor");
    this.supervisor.setDaemon(true);
  }

  /** Starts the child, waits for {@code readyLine} in what it logs, then keeps it running. */
  static SupervisedProcess start(String name, List<String> command, Map<String, String> env, Path log, String readyLine,
      Duration readyTimeout) {
    SupervisedProcess p = new SupervisedProcess(name, command, env, log, readyLine, readyTimeout);
    p.launchAndAwaitReady();
    p.supervisor.start();
    return p;
  }

  long pid() {
    return process.pid();
  }

  int restarts() {
    return restarts.get();
  }

  Path log() {
    return log;
  }

  /** Why the child cannot take work now (empty while it runs). */
  Optional<String> notReady() {
    return ready && process.isAlive() ? Optional.empty()
        : Optional.of(name + " process is down or starting (" + restarts.get() + " restarts so far; log " + log + ")");
  }

  private void launchAndAwaitReady() {
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      long from = Files.exists(log) ? Files.size(log) : 0;
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().putAll(env);
      ready = false;
      Process started = builder.start();
      process = started;
      startedAt = System.nanoTime();
      awaitReady(started, from);
      ready = true;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the " + name + " process: " + e.getMessage(), e);
    }
  }

  private void awaitReady(Process p, long logOffset) {
    long deadline = System.nanoTime() + readyTimeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("the " + name + " process exited with " + p.exitValue() + ":\n" + tail(logOffset));
      }
      if (logSince(logOffset).contains(readyLine)) {
        return;
      }
      sleep(Duration.ofMillis(200));
    }
    p.destroyForcibly();
    throw new IllegalStateException("the " + name + " process did not log '" + readyLine + "' within " + readyTimeout + ":\n"
        + tail(logOffset));
  }

  private void supervise() {
    Duration backoff = Duration.ofMillis(500); // doubled before the first wait: 1 s, 2 s, 4 s … 30 s
    while (!closing) {
      Process p = process;
      int code;
      try {
        code = p.waitFor();
      } catch (InterruptedException e) {
        return;
      }
      if (closing) {
        return;
      }
      Duration up = Duration.ofNanos(System.nanoTime() - startedAt);
      backoff = up.compareTo(STABLE_UPTIME) >= 0 ? Duration.ofSeconds(1) : min(backoff.multipliedBy(2), MAX_BACKOFF);
      int n = restarts.incrementAndGet();
      LOG.warn("{} process {} exited with {} after {} s; restart #{} in {} s", name, p.pid(), code, up.toSeconds(), n,
          backoff.toSeconds());
      System.out.printf("%s process %d exited with %d; restarting in %d s (restart #%d)%n", name, p.pid(), code,
          backoff.toSeconds(), n);
      sleep(backoff);
      if (closing) {
        return;
      }
      try {
        launchAndAwaitReady();
        LOG.info("{} restarted as process {}", name, process.pid());
        System.out.printf("%s restarted as process %d%n", name, process.pid());
      } catch (RuntimeException e) {
        LOG.error("{} did not come back: {}", name, e.getMessage());
      }
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while supervising " + name, e);
    }
  }

  private String logSince(long offset) {
    if (!Files.exists(log)) {
      return "";
    }
    try (InputStream in = Files.newInputStream(log)) {
      in.skipNBytes(Math.min(offset, Files.size(log)));
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private String tail(long offset) {
    String text = logSince(offset);
    return text.length() <= 4000 ? text : "…" + text.substring(text.length() - 4000);
  }

  /** Asks the child to stop (it finishes its current work), then kills it after 40 s; no restart. */
  @Override
  public void close() {
    closing = true;
    supervisor.interrupt();
    Process p = process;
    p.destroy();
    try {
      if (!p.waitFor(40, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }
}
