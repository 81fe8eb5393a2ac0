package io.marginal.inference.personalization;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.cm.DiscrepancyEstimator;
import io.marginal.personalization.cm.Vectors;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The CM step at answer time for free-text chat: given the candidate responses and their
 * base-model log-probabilities, computes {@code P(r|x)} (softmax over the candidate set),
 * marginalizes through the user's bank with the estimator to get {@code P_u(y|x)}, and picks the
 * answer — the arg max, or a draw with the request's seed when it samples. Pure: no model, no I/O.
 */
public final class CmSelector {

  /** The outcome: what the base model thought, what the user's transition made of it, and the pick. */
  public record Choice(Map<String, Double> base, Map<String, Double> personalized, String answer) {}

  private final DiscrepancyEstimator estimator;

  public CmSelector(DiscrepancyEstimator estimator) {
    this.estimator = estimator;
  }

  /**
   * Responses the user preferred in the bank entries nearest to {@code x} (cosine above
   * {@code floor}), best first, at most {@code limit}: candidates the model may never produce itself.
   */
  public static List<String> preferredNearby(MemoryBank bank, float[] x, int limit, double floor) {
    record Scored(String response, double similarity) {}
    List<Scored> scored = new ArrayList<>();
    for (BankEntry e : bank.getEntries()) {
      if (e.getWeight() <= 0 || e.getPreferredResponse().isBlank()) {
        continue;
      }
      double s = Vectors.cosine(x, e.getInstanceEmbedding());
      if (s > floor) {
        scored.add(new Scored(e.getPreferredResponse(), s));
      }
    }
    scored.sort(Comparator.comparingDouble(Scored::similarity).reversed());
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (Scored s : scored) {
      if (out.size() >= limit) {
        break;
      }
      out.add(s.response());
    }
    return List.copyOf(out);
  }

  /**
   * @param candidates distinct candidate responses, in a stable order
   * @param logProbs   {@code log P(candidate | prompt)} under the base model (+ adapters), same order
   * @param temperature 0 picks the arg max; otherwise draws from {@code P_u} with {@code seed}
   */
  public Choice choose(MemoryBank bank, float[] x, List<String> candidates, double[] logProbs, double temperature, long seed) {
    Map<String, Double> base = softmax(candidates, logProbs);
    Map<String, Double> personalized = estimator.marginalize(bank, x, base);
    String answer;
    if (temperature <= 0) {
      answer = personalized.entrySet().stream().max(Map.Entry.<String, Double>comparingByValue()
          .thenComparing(e -> -candidates.indexOf(e.getKey()))).orElseThrow().getKey();
    } else {
      double u = new Random(seed).nextDouble();
      double total = personalized.values().stream().mapToDouble(Double::doubleValue).sum();
      double acc = 0;
      answer = null;
      for (Map.Entry<String, Double> e : personalized.entrySet()) {
        acc += e.getValue() / total;
        answer = e.getKey();
        if (u < acc) {
          break;
        }
      }
    }
    return new Choice(base, personalized, answer);
  }

  static Map<String, Double> softmax(List<String> candidates, double[] logProbs) {
    double max = Double.NEGATIVE_INFINITY;
    for (double lp : logProbs) {
      max = Math.max(max, lp);
    }
    double z = 0;
    double[] w = new double[logProbs.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = Math.exp(logProbs[i] - max);
      z += w[i];
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < w.length; i++) {
      out.merge(candidates.get(i), w[i] / z, Double::sum);
    }
    return out;
  }

}
