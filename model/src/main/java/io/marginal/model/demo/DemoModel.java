package io.marginal.model.demo;

import io.marginal.config.Settings;
import io.marginal.model.weights.Sha256;
import io.marginal.model.LanguageModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the demo model lives and how to get it: {@link #ensureBuilt()} returns its checkpoint
 * directory, building it first (a few minutes, with progress on stdout) if it is not cached.
 *
 * <p>Location: {@code -Dmarginal.model.dir=DIR} or env {@code MARGINAL_MODEL_DIR} if set, else
 * {@code ~/.cache/marginal/models/demo-<hash>} where the hash covers the corpus, the architecture,
 * the training plan and the builder version, so any change builds a fresh model. Concurrent
 * callers (several JVMs) are serialised by a file lock; one builds, the others wait and reuse it.
 */
public final class DemoModel {
  private DemoModel() {}

  /** The demo model directory, built if absent. */
  public static Path ensureBuilt() {
    return ensureBuilt(DemoTrainingPlan.DEFAULT);
  }

  public static Path ensureBuilt(DemoTrainingPlan plan) {
    defaultEngineSettings();
    Path dir = directory(plan);
    if (isComplete(dir)) {
      return dir;
    }
    try {
      Files.createDirectories(dir.toAbsolutePath().getParent());
      Path lockFile = dir.resolveSibling(dir.getFileName() + ".lock");
      try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock lock = ch.lock()) {
        if (!isComplete(dir)) {
          System.out.println("building the demo model in " + dir + " (one time, a few minutes)");
          DemoModelBuilder.build(dir, plan, System.out);
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build the demo model in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Loads the demo model (building it if needed) on the CPU. */
  public static LanguageModel load() {
    return LanguageModel.load(ensureBuilt());
  }

  /** The directory for {@code plan}: the override if set, else the hashed cache location. */
  public static Path directory(DemoTrainingPlan plan) {
    String override = System.getProperty("marginal.model.dir", Settings.environment().getString("MARGINAL_MODEL_DIR", null));
    if (override != null && !override.isBlank()) {
      return Path.of(override);
    }
    String key = DemoCorpus.text() + "\n" + DemoModelBuilder.config(1).toJson() + "\n" + plan.describe() + "\nv"
        + DemoModelBuilder.BUILDER_VERSION;
    String hash = Sha256.of(key.getBytes(StandardCharsets.UTF_8)).substring(0, 12);
    return Path.of(System.getProperty("user.home"), ".cache", "marginal", "models", "demo-" + hash);
  }

  static boolean isComplete(Path dir) {
    return Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("model.safetensors"))
        && Files.isRegularFile(dir.resolve("tokenizer.json"));
  }

  /** DJL settings for running outside Maven's surefire/exec configuration: offline, PyTorch. */
  public static void defaultEngineSettings() {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (System.getProperty("ai.djl.default_engine") == null) {
      System.setProperty("ai.djl.default_engine", "PyTorch");
    }
  }
}
