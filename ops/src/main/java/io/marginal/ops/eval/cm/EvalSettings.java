package io.marginal.ops.eval.cm;

import io.marginal.personalization.cm.DiscrepancyEstimator;
import io.marginal.personalization.cm.KnnDiscrepancyEstimator;

/**
 * What an evaluation run does.
 *
 * @param users           simulated users per seed (protocols a, b, d; protocol c has one gold-label user)
 * @param remapped        intents each user remaps
 * @param perRemapped     feedback rows per remapped intent (protocols a, d)
 * @param otherFeedback   random feedback rows besides those (protocols a, d)
 * @param seed            the first seed
 * @param seeds           how many seeds (seed, seed + 1, …); the intervals are over these
 * @param k               CM's neighbours (also the kNN vote's)
 * @param lambda          CM's prior toward the identity (also T_u's pseudo-count and the kNN vote's base weight)
 * @param tau             CM's similarity floor
 * @param p               CM's kernel sharpness (also the kNN vote's)
 * @param promptThreshold the prompt-only similarity threshold, or NaN to tune it on train per protocol
 * @param bankCap         the per-user bank cap while building banks; must hold protocol c's 5 % sample
 */
public record EvalSettings(int users, int remapped, int perRemapped, int otherFeedback, int seed, int seeds,
                           int k, double lambda, double tau, double p, double promptThreshold, int bankCap) {

  public EvalSettings {
    if (users < 1 || remapped < 1 || perRemapped < 0 || otherFeedback < 0 || seeds < 1 || bankCap < 1) {
      throw new IllegalArgumentException("need users >= 1, remapped >= 1, per-remapped >= 0, other >= 0, seeds >= 1, bank cap >= 1;"
          + " got " + this);
    }
  }

  /**
   * 10 users × 8 remapped intents, 10 + 100 feedback rows, seeds 1..5, the estimator's defaults, prompt-only tuned on
   * train, bank cap 1,024 (the streams app's default cap is 256, which protocol c's 5 % CLINC150 sample, 750 rows,
   * would overflow).
   */
  public static EvalSettings defaults() {
    return new EvalSettings(10, 8, 10, 100, 1, 5, 10, 0.5, 0.0, 1.0, Double.NaN, 1024);
  }

  /** Feedback rows per user in protocols a, b and d. */
  public int feedbackPerUser() {
    return perRemapped * remapped + otherFeedback;
  }

  public EvalSettings withEstimator(int k, double lambda, double tau, double p) {
    return new EvalSettings(users, remapped, perRemapped, otherFeedback, seed, seeds, k, lambda, tau, p, promptThreshold, bankCap);
  }

  public EvalSettings withPromptThreshold(double threshold) {
    return new EvalSettings(users, remapped, perRemapped, otherFeedback, seed, seeds, k, lambda, tau, p, threshold, bankCap);
  }

  public EvalSettings withSeeds(int first, int count) {
    return new EvalSettings(users, remapped, perRemapped, otherFeedback, first, count, k, lambda, tau, p, promptThreshold, bankCap);
  }

  public EvalSettings withUsers(int count) {
    return new EvalSettings(count, remapped, perRemapped, otherFeedback, seed, seeds, k, lambda, tau, p, promptThreshold, bankCap);
  }

  public DiscrepancyEstimator estimator() {
    return new KnnDiscrepancyEstimator(k, lambda, tau, p);
  }
}
