package io.marginal.ops.eval.cm;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A k-nearest-neighbour vote over the bank that does not condition on the model's answer: the k positive bank
 * entries most similar to x vote for their preferred response with weight max(0, cos)^p, and the base model votes
 * with its distribution scaled by a base weight β (so an empty bank gives the base answer):
 * {@code score(y) = β·P(y | x) + Σ_{i ∈ N_k(x)} max(0, s_i)^p [y_i = y]}. Same k and p as CM; β is its one knob,
 * picked on train per protocol by {@link #tuneBaseWeight} like the prompt-only threshold. What separates CM from it
 * is the conditioning of each neighbour's transition on the model's answer r.
 */
public final class KnnVoteBaseline implements PersonalizationMethod {

  private final int k;
  private final double baseWeight;
  private final double sharpness;

  public KnnVoteBaseline(int k, double baseWeight, double sharpness) {
    if (k < 1 || !(baseWeight > 0) || !(sharpness > 0)) {
      throw new IllegalArgumentException("need k >= 1, base weight > 0, sharpness > 0; got k=" + k + " λ=" + baseWeight + " p=" + sharpness);
    }
    this.k = k;
    this.baseWeight = baseWeight;
    this.sharpness = sharpness;
  }

  @Override
  public String name() {
    return "kNN vote";
  }

  /** Base weights {@link #tuneBaseWeight} tries. */
  public static final double[] BASE_WEIGHT_GRID = {0.5, 1, 2, 4, 8, 16};

  public double baseWeight() {
    return baseWeight;
  }

  @Override
  public String answer(MemoryBank bank, float[] x, Map<String, Double> base) {
    return answer(nearest(bank, x), base, baseWeight);
  }

  private String answer(List<Neighbour> neighbours, Map<String, Double> base, double weight) {
    Map<String, Double> score = new HashMap<>();
    base.forEach((y, p) -> score.put(y, weight * p));
    for (Neighbour n : neighbours) {
      score.merge(n.label(), Math.pow(Math.max(0, n.similarity()), sharpness), Double::sum);
    }
    return CmEvaluation.argmax(score);
  }

  /**
   * The grid base weight with the most hits over the probes (bank, embedding, base distribution, wanted label); ties
   * go to the larger (more conservative) weight. Neighbours are found once per probe.
   */
  public double tuneBaseWeight(List<Probe> probes) {
    long[] hits = new long[BASE_WEIGHT_GRID.length];
    for (Probe probe : probes) {
      List<Neighbour> neighbours = nearest(probe.bank(), probe.x());
      for (int g = 0; g < BASE_WEIGHT_GRID.length; g++) {
        if (answer(neighbours, probe.base(), BASE_WEIGHT_GRID[g]).equals(probe.wanted())) {
          hits[g]++;
        }
      }
    }
    int best = BASE_WEIGHT_GRID.length - 1;
    for (int g = BASE_WEIGHT_GRID.length - 1; g >= 0; g--) {
      if (hits[g] > hits[best]) {
        best = g;
      }
    }
    return BASE_WEIGHT_GRID[best];
  }

  /** One tuning example. */
  public record Probe(MemoryBank bank, float[] x, Map<String, Double> base, String wanted) {
  }

  private List<Neighbour> nearest(MemoryBank bank, float[] x) {
    double xNorm = EmbeddingSimilarity.norm(x);
    List<Neighbour> all = new ArrayList<>();
    for (BankEntry e : bank.getEntries()) {
      if (e.getWeight() > 0) {
        all.add(new Neighbour(e.getPreferredResponse(), EmbeddingSimilarity.cosine(x, xNorm, e.getInstanceEmbedding())));
      }
    }
    all.sort((a, b) -> Double.compare(b.similarity(), a.similarity()));
    return all.size() <= k ? all : all.subList(0, k);
  }

  private record Neighbour(String label, double similarity) {
  }
}
