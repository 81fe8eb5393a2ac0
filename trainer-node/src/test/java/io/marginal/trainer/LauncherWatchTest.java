package io.marginal.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A trainer started by a launcher exits when the launcher's end of its stdin closes — what happens
 * when the launcher dies, {@code kill -9} included (the kernel closes the dead process's pipes).
 */
class LauncherWatchTest {

  /** The child: watches its stdin as TrainerMain does, says so, then idles. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      LauncherWatch.startIfRequested(Map.of(LauncherWatch.ENV, "true"), () -> System.exit(3));
      System.out.println("watching");
      System.out.flush();
      Thread.sleep(60_000);
      System.exit(1);
    }
  }

  @Test
  void theChildExitsWhenItsLauncherGoesAway() throws Exception {
    Process child = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx32m",
        "-cp", System.getProperty("java.class.path"), Child.class.getName())).redirectErrorStream(true).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      assertEquals("watching", out.readLine());
      assertTrue(child.isAlive());

      child.getOutputStream().close(); // what the launcher's death does to the pipe

      assertTrue(child.waitFor(20, TimeUnit.SECONDS), "the child is still running");
      assertEquals(3, child.exitValue());
    } finally {
      child.destroyForcibly();
    }
  }
}
