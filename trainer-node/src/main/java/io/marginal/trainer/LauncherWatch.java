package io.marginal.trainer;

import java.io.IOException;
import java.io.InputStream;

/**
 * For a trainer started as a launcher's child ({@code MARGINAL_EXIT_WITH_LAUNCHER=true}): exit when
 * the launcher's end of our standard input closes, which happens when the launcher dies in any way,
 * {@code kill -9} included. Without it a killed launcher left an orphan trainer consuming requests.
 */
final class LauncherWatch {

  static final String ENV = "MARGINAL_EXIT_WITH_LAUNCHER";

  private LauncherWatch() {
  }

  static void startIfRequested(java.util.Map<String, String> env, Runnable onLauncherGone) {
    if (!Boolean.parseBoolean(env.getOrDefault(ENV, "false"))) {
      return;
    }
    Thread watch = new Thread(() -> {
      try (InputStream in = System.in) {
        byte[] ignored = new byte[64];
        while (in.read(ignored) >= 0) {
          // nothing is ever written
        }
      } catch (IOException brokenPipe) {
        // same meaning as end of stream
      }
      onLauncherGone.run();
    }, "launcher-watch");
    watch.setDaemon(true);
    watch.start();
  }
}
