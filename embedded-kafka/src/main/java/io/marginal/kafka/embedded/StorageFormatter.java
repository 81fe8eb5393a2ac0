package io.marginal.kafka.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.tools.StorageTool;

/** Formats a KRaft log directory once (what {@code kafka-storage.sh format} does); a formatted one is left alone. */
final class StorageFormatter {

  private StorageFormatter() {
  }

  static void formatIfNeeded(BrokerSettings settings) {
    Path dir = settings.dataDir();
    if (Files.exists(dir.resolve("meta.properties"))) {
      return;
    }
    try {
      Files.createDirectories(dir);
      Path config = dir.getParent().resolve("server-" + settings.port() + ".properties");
      writeProperties(settings.toProperties(), config);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int rc = StorageTool.execute(new String[] {"format", "-t", BrokerSettings.CLUSTER_ID, "-c", config.toString(),
          "--ignore-formatted"}, new PrintStream(out, true, StandardCharsets.UTF_8));
      if (rc != 0) {
        throw new IllegalStateException("kafka storage format of " + dir + " failed (" + rc + "): " + out.toString(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare broker directory " + dir, e);
    }
  }

  static void writeProperties(Properties properties, Path file) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      properties.store(out, "single-node KRaft broker written by Marginal");
    }
  }
}
