package io.marginal.ops.eval.unlearning;

import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.Proportion;
import java.util.List;
import java.util.Map;

/**
 * One concept forgotten by several methods on the same protocol: the same request, the same evaluation
 * families, the same retain prompts. Each row holds the job's metrics ({@link Metrics} keys, base figures
 * under {@code key + Metrics.BEFORE}).
 */
public record MethodComparison(String concept, List<Row> rows) {

  public MethodComparison {
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("a comparison needs at least one method");
    }
    rows = List.copyOf(rows);
  }

  /** One method's outcome. */
  public record Row(MethodPreset preset, Map<String, Double> metrics, boolean passedGate) {

    public Row {
      metrics = Map.copyOf(metrics);
    }

    public Double after(String key) {
      return metrics.get(key);
    }

    /** The evaluation-family leak as hits out of probes, for its interval. */
    public Proportion evaluationLeak() {
      return proportion(metrics, Metrics.EVAL_LEAK, Metrics.EVAL_PROBES);
    }

    public Proportion retainAgreement() {
      return proportion(metrics, Metrics.RETAIN_AGREEMENT, Metrics.RETAIN_PROMPTS);
    }
  }

  /** The base model's evaluation-family leak (every row measured the same base). */
  public Proportion baseEvaluationLeak() {
    Map<String, Double> m = rows.get(0).metrics();
    return proportion(m, Metrics.EVAL_LEAK + Metrics.BEFORE, Metrics.EVAL_PROBES + Metrics.BEFORE);
  }

  public Double base(String key) {
    return rows.get(0).metrics().get(key + Metrics.BEFORE);
  }

  static Proportion proportion(Map<String, Double> m, String rateKey, String countKey) {
    Double rate = m.get(rateKey);
    Double n = m.get(countKey);
    if (rate == null || n == null) {
      return new Proportion(0, 0);
    }
    int total = (int) Math.round(n);
    return new Proportion((int) Math.round(rate * total), total);
  }
}
