package io.marginal.streams.eval;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A k-nearest-neighbour vote over the bank that does not condition on the model's answer: the k positive bank
 * entries most similar to x vote for their preferred response with weight max(0, cos)^p, and the base model votes
 * with its distribution scaled by λ (so an empty bank gives the base answer):
 * {@code score(y) = λ·P(y | x) + Σ_{i ∈ N_k(x)} max(0, s_i)^p [y_i = y]}. Same k, λ, p as CM. What separates CM from
 * it is the conditioning of each neighbour's transition on the model's answer r.
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

  @Override
  public String answer(MemoryBank bank, float[] x, Map<String, Double> base) {
    Map<String, Double> score = new HashMap<>();
    base.forEach((y, p) -> score.put(y, baseWeight * p));
    for (Neighbour n : nearest(bank, x)) {
      score.merge(n.label(), Math.pow(Math.max(0, n.similarity()), sharpness), Double::sum);
    }
    return CmEvaluation.argmax(score);
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
