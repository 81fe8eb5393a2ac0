package io.marginal.trainer.job;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a job produced.
 *
 * @param adapterDir    the finished adapter (null when nothing could be trained)
 * @param metrics       evaluation figures (forget efficacy, retain utility, ...), published with the adapter
 * @param passedGate    whether the adapter met the configured publication gate
 * @param failureReason why it did not pass (null when it did)
 */
public record UnlearningOutcome(Path adapterDir, Map<String, Double> metrics, boolean passedGate, String failureReason) {

  public static UnlearningOutcome passed(Path adapterDir, Map<String, Double> metrics) {
    return new UnlearningOutcome(adapterDir, Map.copyOf(metrics), true, null);
  }

  public static UnlearningOutcome failed(Path adapterDir, Map<String, Double> metrics, String reason) {
    return new UnlearningOutcome(adapterDir, Map.copyOf(metrics), false, reason);
  }
}
