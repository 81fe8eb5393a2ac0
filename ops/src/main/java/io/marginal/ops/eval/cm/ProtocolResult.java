package io.marginal.ops.eval.cm;

import java.util.List;
import java.util.Map;

/**
 * One protocol on one dataset: each method's accuracy against the users' labels per row group, as mean and 95 %
 * interval over seeds.
 *
 * @param usersPerSeed     simulated users per seed
 * @param feedbackPerUser  feedback events per user (= bank entries)
 * @param baseTrueAccuracy the base model's accuracy on the gold labels of the eval rows
 * @param promptThreshold  the prompt-only threshold used (tuned on train for this protocol unless fixed)
 * @param knnBaseWeight    the kNN vote's base weight used (tuned on train for this protocol)
 * @param methods          method names, in column order
 * @param accuracy         group → method → accuracy interval (fractions in [0, 1]); only groups with rows
 * @param rowsPerSeed      group → mean (user × eval row) pairs per seed
 */
public record ProtocolResult(String dataset, EvaluationProtocol protocol, EvalSettings settings, int trainRows, int evalRows,
                             int usersPerSeed, int feedbackPerUser, double baseTrueAccuracy, double promptThreshold, double knnBaseWeight,
                             List<String> methods, Map<RowGroup, Map<String, ConfidenceInterval>> accuracy,
                             Map<RowGroup, Double> rowsPerSeed) {

  public ProtocolResult {
    methods = List.copyOf(methods);
    accuracy = Map.copyOf(accuracy);
    rowsPerSeed = Map.copyOf(rowsPerSeed);
  }

  public ConfidenceInterval accuracy(RowGroup group, String method) {
    Map<String, ConfidenceInterval> byMethod = accuracy.get(group);
    if (byMethod == null || !byMethod.containsKey(method)) {
      throw new IllegalArgumentException("no " + group + " accuracy for method '" + method + "' in " + dataset + " / " + protocol
          + "; groups " + accuracy.keySet() + ", methods " + methods);
    }
    return byMethod.get(method);
  }

  /** The groups with rows, in {@link RowGroup} order. */
  public List<RowGroup> groups() {
    return List.of(RowGroup.values()).stream().filter(accuracy::containsKey).toList();
  }
}
