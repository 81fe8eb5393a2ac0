package io.marginal.ops.eval.cm;

import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.cm.DiscrepancyEstimator;
import java.util.Map;

/** CM's answer: argmax of {@code P_u(y | x) = Σ_r T_u(y | r, x) P(r | x)} from any {@link DiscrepancyEstimator}. */
public final class CmMethod implements PersonalizationMethod {

  private final String name;
  private final DiscrepancyEstimator estimator;

  public CmMethod(String name, DiscrepancyEstimator estimator) {
    this.name = name;
    this.estimator = estimator;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String answer(MemoryBank bank, float[] x, Map<String, Double> base) {
    return CmEvaluation.argmax(estimator.marginalize(bank, x, base));
  }
}
