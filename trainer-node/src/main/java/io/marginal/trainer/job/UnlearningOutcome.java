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
 * @param supersedesEarlierVersions the adapter was retrained from the base without deleted data
 *                      (exact forgetting of a per-user adapter): once it is published, every
 *                      earlier version of the scope still holds that data and is removed
 */
public record UnlearningOutcome(Path adapterDir, Map<String, Double> metrics, boolean passedGate, String failureReason,
                                boolean supersedesEarlierVersions) {

  public UnlearningOutcome(Path adapterDir, Map<String, Double> metrics, boolean passedGate, String failureReason) {
    this(adapterDir, metrics, passedGate, failureReason, false);
  }

  public static UnlearningOutcome passed(Path adapterDir, Map<String, Double> metrics) {
    return new UnlearningOutcome(adapterDir, Map.copyOf(metrics), true, null);
  }

  public static UnlearningOutcome failed(Path adapterDir, Map<String, Double> metrics, String reason) {
    return new UnlearningOutcome(adapterDir, Map.copyOf(metrics), false, reason);
  }

  public UnlearningOutcome superseding(boolean value) {
    return new UnlearningOutcome(adapterDir, metrics, passedGate, failureReason, value);
  }
}
