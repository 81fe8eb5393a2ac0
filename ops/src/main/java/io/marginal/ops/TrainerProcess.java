package io.marginal.ops;

import io.marginal.trainer.TrainerMain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The trainer node as its own JVM ({@link TrainerMain}), as in the distributed layout. Training
 * and serving never share a process: a native fault or a memory spike in a training job cannot take
 * the inference nodes down, and autograd never runs beside serving threads in one PyTorch runtime.
 * Its log goes to a file; it is supervised ({@link SupervisedProcess}): restarted with backoff if
 * it dies, and it exits when the launcher does. Closing asks it to finish the current request and stop.
 */
final class TrainerProcess {

  /** What the trainer logs once it consumes its topic. */
  static final String READY_LINE = "consuming";

  private TrainerProcess() {
  }

  /** Starts the trainer with {@code env} as its environment, waits until it consumes its topic, and keeps it running. */
  static SupervisedProcess start(Map<String, String> env, Path log, Duration timeout) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + env.getOrDefault("MARGINAL_TRAINER_HEAP", "3g")));
    // The same engine settings as this JVM (offline DJL, PyTorch engine, thread counts). Not its log settings:
    // logback.xml's defaults keep progress at INFO and Kafka clients at WARN, and the launcher waits for the
    // "consuming" line at INFO even when this JVM logs only warnings (-Dmarginal.log.level=WARN, the bench profile).
    System.getProperties().forEach((k, v) -> {
      if (k.toString().startsWith("ai.djl.")) {
        command.add("-D" + k + "=" + v);
      }
    });
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainerMain.class.getName()));
    Map<String, String> childEnv = new HashMap<>(env);
    childEnv.putIfAbsent("DJL_OFFLINE", "true");
    childEnv.put("MARGINAL_EXIT_WITH_LAUNCHER", "true");
    return SupervisedProcess.start("trainer", command, childEnv, log, READY_LINE, timeout);
  }
}
