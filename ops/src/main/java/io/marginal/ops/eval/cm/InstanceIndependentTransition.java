package io.marginal.ops.eval.cm;

import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import java.util.HashMap;
import java.util.Map;

/**
 * The simplest baseline that could explain CM's gains: a per-user transition T_u(y | r) counted from the whole bank,
 * ignoring the instance. {@code T_u(y | r) = (λ·[y = r] + c_u(r → y)) / (λ + Σ_y' c_u(r → y'))}, with c_u the bank's
 * positive transition weights (its instance-independent aggregates), and {@code P_u(y | x) = Σ_r T_u(y | r) P(r | x)}.
 * The same pseudo-count λ as CM's prior toward the identity. Thumbs-down weights are left out (the simulated users
 * never give any); a row without feedback is the identity.
 */
public final class InstanceIndependentTransition implements PersonalizationMethod {

  private final double identityPrior;

  public InstanceIndependentTransition(double identityPrior) {
    if (!(identityPrior > 0)) {
      throw new IllegalArgumentException("identityPrior λ must be > 0, got " + identityPrior);
    }
    this.identityPrior = identityPrior;
  }

  @Override
  public String name() {
    return "T_u(y|r)";
  }

  @Override
  public String answer(MemoryBank bank, float[] x, Map<String, Double> base) {
    return CmEvaluation.argmax(marginalize(bank, base));
  }

  /** P_u(y | x) through the instance-independent transition. */
  public Map<String, Double> marginalize(MemoryBank bank, Map<String, Double> base) {
    Map<String, Map<String, Double>> rows = new HashMap<>();
    for (TransitionCount t : bank.getTransitions()) {
      if (t.getWeight() > 0 && base.containsKey(t.getFromResponse())) {
        rows.computeIfAbsent(t.getFromResponse(), r -> new HashMap<>()).merge(t.getToResponse(), t.getWeight(), Double::sum);
      }
    }
    Map<String, Double> out = new HashMap<>();
    for (Map.Entry<String, Double> candidate : base.entrySet()) {
      String r = candidate.getKey();
      Map<String, Double> row = rows.getOrDefault(r, Map.of());
      double z = identityPrior + row.values().stream().mapToDouble(Double::doubleValue).sum();
      out.merge(r, candidate.getValue() * identityPrior / z, Double::sum);
      row.forEach((y, c) -> out.merge(y, candidate.getValue() * c / z, Double::sum));
    }
    return out;
  }
}
