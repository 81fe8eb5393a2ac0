package io.marginal.personalization.cm;

import io.marginal.schemas.MemoryBank;
import java.util.Map;

/**
 * Consistent Marginalization at answer time: {@code P_u(y | x) = Σ_r T_u(y | r, x) · P(r | x)}.
 * Implementations are pure functions of their arguments (no I/O, no Kafka), safe to call from any
 * thread; swap the estimator without touching callers.
 */
public interface DiscrepancyEstimator {

  /**
   * @param bank                  the user's memory bank; null or empty means "no feedback yet"
   * @param instanceEmbedding     the L2-normalised embedding of the instance x (same space as the bank's)
   * @param candidateDistribution P(r | x) over the candidate responses (sums to 1)
   * @return P_u(y | x); its support is the candidates plus any preferred responses the bank maps them to.
   *     With an empty bank, or no bank entry near x, it equals the input.
   */
  Map<String, Double> marginalize(MemoryBank bank, float[] instanceEmbedding, Map<String, Double> candidateDistribution);
}
