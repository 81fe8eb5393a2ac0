package io.marginal.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's run command, minus Maven: the whole system on free ports (broker, streams, trainer,
 * inference, demo model) and the scripted scenario, every check of which must pass.
 */
class DemoScenarioIT {

  @Test
  void theScenarioPassesEveryCheckOnAFreshSystem() throws Exception {
    Path dir = Files.createTempDirectory("demo-scenario");
    LauncherConfig config = LauncherConfig.parse(new String[] {"--data-dir", dir.toString(), "--broker-port", "0"}, Map.of());
    assertEquals(dir.resolve("demo"), config.dataDir(), "the scenario runs in its own, wiped, data directory");
    assertTrue(config.fresh());
    LocalLauncher launcher = new LocalLauncher(config, Map.of("MARGINAL_HTTP_PORT", "0", "MARGINAL_STREAMS_HTTP_PORT", "0", "MARGINAL_TRAINER_HTTP_PORT", "0"));
    ByteArrayOutputStream transcript = new ByteArrayOutputStream();
    boolean passed;
    try {
      launcher.start();
      passed = launcher.playDemo(new PrintStream(transcript, true, StandardCharsets.UTF_8));
    } finally {
      launcher.stop();
    }
    String text = transcript.toString(StandardCharsets.UTF_8);
    System.out.println(text);
    assertTrue(passed, "failed checks:\n" + text);
    assertTrue(text.contains("13 passed, 0 failed"), text);
    assertTrue(text.matches("(?s).*Inception mentions: [1-5]/5 → 0/5.*"), text);
  }
}
