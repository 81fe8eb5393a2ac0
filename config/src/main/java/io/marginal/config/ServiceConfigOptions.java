package io.marginal.config;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The command-line options every service main shares (a picocli {@code @Mixin}): {@code --config FILE}, a
 * properties file with the service's {@code MARGINAL_*} keys under the environment, and {@code --print-config}.
 * Configuration itself stays in the environment; these only point at a file or check the result.
 */
public final class ServiceConfigOptions {

  @Option(names = "--config", paramLabel = "FILE",
      description = "Properties file with the same MARGINAL_* keys; the environment overrides it (as the service's MARGINAL_*_CONFIG variable).")
  Path configFile;

  @Option(names = "--print-config", description = "Print the configuration (secrets masked) and exit.")
  boolean printConfig;

  /**
   * {@code base} laid over the properties file named by {@code --config}, or else by {@code fileKey} in
   * {@code base} (the service's own variable for it).
   */
  public Settings settings(Settings base, String fileKey) {
    Settings named = configFile == null ? base : base.with(Map.of(fileKey, configFile.toString()));
    return named.overFileNamedBy(fileKey);
  }

  public boolean printConfig() {
    return printConfig;
  }
}
