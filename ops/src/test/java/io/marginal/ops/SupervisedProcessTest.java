package io.marginal.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's supervision of its child JVMs, with a small child process standing in for the trainer. */
class SupervisedProcessTest {

  @TempDir Path tmp;

  private static List<String> command() {
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m", "-cp",
        System.getProperty("java.class.path"), FakeChildService.class.getName());
  }

  @Test
  void aReadyLineLeftInTheLogByAnEarlierRunDoesNotCountAsReady() throws Exception {
    Path log = tmp.resolve("child.log");
    Files.writeString(log, "12:00:00 trainer local-1-trainer consuming marginal.unlearning-requests.v1\n");

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> SupervisedProcess.start("child", command(),
        Map.of("FAKE_READY", "false"), log, "consuming", Duration.ofSeconds(4)));

    assertTrue(e.getMessage().contains("did not log 'consuming'"), e.getMessage());
  }

  @Test
  void aKilledChildIsRestartedAndReadyAgain() throws Exception {
    Path log = tmp.resolve("child.log");
    try (SupervisedProcess child = SupervisedProcess.start("child", command(), Map.of(), log, "consuming", Duration.ofSeconds(30))) {
      long first = child.pid();
      assertTrue(child.notReady().isEmpty());

      ProcessHandle victim = ProcessHandle.of(first).orElseThrow();
      assertTrue(victim.destroyForcibly());
      victim.onExit().get();

      await("a restarted, ready child").atMost(Duration.ofSeconds(30))
          .until(() -> child.restarts() >= 1 && child.pid() != first && child.notReady().isEmpty());
      assertEquals(1, child.restarts());
      assertNotEquals(first, child.pid());
      assertTrue(child.notReady().isEmpty(), "restarted child ready: " + child.notReady());
      assertEquals(2, Files.readAllLines(log).stream().filter(l -> l.contains("consuming")).count());
    }
  }

  @Test
  void closingStopsTheChildWithoutARestart() throws Exception {
    SupervisedProcess child = SupervisedProcess.start("child", command(), Map.of(), tmp.resolve("c.log"), "consuming",
        Duration.ofSeconds(30));
    long pid = child.pid();
    child.close();
    await("the child gone").atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
    // ... and it stays gone: no restart within the first backoff (1 s) and then some.
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> child.restarts() == 0);
  }
}
