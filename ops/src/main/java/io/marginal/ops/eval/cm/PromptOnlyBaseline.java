package io.marginal.ops.eval.cm;

import io.marginal.personalization.cm.Vectors;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import java.util.List;
import java.util.Map;

/**
 * Personalization without a discrepancy model: the way an LLM chatbot is personalized by putting the
 * user's past feedback into its prompt, operationalised for a closed label set.
 *
 * <p>An LLM given "here are examples of how this user wants such requests answered" retrieves the
 * user's feedback examples most similar to the request (retrieval-augmented in-context exemplars) and
 * copies the preferred answer of a sufficiently similar exemplar; otherwise it answers as it would
 * without them. Here: the exemplars are the user's positive feedback entries (the same memory bank CM
 * reads, same instance embedding); the nearest one by cosine similarity s is retrieved; if
 * {@code s > threshold} the answer is that exemplar's preferred response, else the base model's argmax
 * (a threshold of 1 or more never overrides: the base model). The threshold is the only knob; {@link #tuneThreshold} picks it on train data.
 *
 * <p>What it lacks compared with CM: it copies a single exemplar's label whatever the model answered
 * now (no conditioning on r, so an exemplar about a different model answer still overrides), it does
 * not weigh several neighbours, and it ignores the base distribution once it overrides.
 */
public final class PromptOnlyBaseline implements PersonalizationMethod {

  /** Thresholds {@link #tuneThreshold} tries: 0.00, 0.05, …, 1.00 (1.00 = never override = the base model). */
  public static final double[] THRESHOLD_GRID = grid();

  private final double threshold;

  public PromptOnlyBaseline(double threshold) {
    if (Double.isNaN(threshold)) {
      throw new IllegalArgumentException("threshold must be a number in [-1, 1] (a cosine similarity), got NaN");
    }
    this.threshold = threshold;
  }

  public double threshold() {
    return threshold;
  }

  @Override
  public String name() {
    return "prompt-only";
  }

  /** The nearest positive exemplar (null if the bank has none) and its cosine similarity to x. */
  public record Retrieval(BankEntry exemplar, double similarity) {
    static final Retrieval NONE = new Retrieval(null, Double.NEGATIVE_INFINITY);

    /** The answer under a given threshold. */
    public String answer(double threshold, Map<String, Double> base) {
      return exemplar != null && threshold < 1.0 && similarity > threshold ? exemplar.getPreferredResponse().toString() : CmEvaluation.argmax(base);
    }
  }

  /** The answer: the nearest exemplar's preferred response if it is similar enough, else the base argmax. */
  @Override
  public String answer(MemoryBank bank, float[] x, Map<String, Double> base) {
    return retrieve(bank, x).answer(threshold, base);
  }

  /** Nearest entry with positive weight (thumbs-down entries say what not to answer, not what to answer). */
  public static Retrieval retrieve(MemoryBank bank, float[] x) {
    if (bank == null) {
      return Retrieval.NONE;
    }
    double xNorm = Vectors.norm(x);
    Retrieval best = Retrieval.NONE;
    for (BankEntry e : bank.getEntries()) {
      if (e.getWeight() <= 0) {
        continue;
      }
      double s = Vectors.cosine(x, xNorm, e.getInstanceEmbedding());
      if (s > best.similarity()) {
        best = new Retrieval(e, s);
      }
    }
    return best;
  }

  /**
   * The grid threshold with the most hits over {@code probes}, each probe being (retrieval, base
   * distribution, wanted label); ties go to the higher (more conservative) threshold.
   */
  public static double tuneThreshold(List<Probe> probes) {
    double bestThreshold = 1.0;
    long bestHits = -1;
    for (int t = THRESHOLD_GRID.length - 1; t >= 0; t--) {
      double threshold = THRESHOLD_GRID[t];
      long hits = probes.stream().filter(p -> p.retrieval().answer(threshold, p.base()).equals(p.wanted())).count();
      if (hits > bestHits) {
        bestHits = hits;
        bestThreshold = threshold;
      }
    }
    return bestThreshold;
  }

  /** One tuning example. */
  public record Probe(Retrieval retrieval, Map<String, Double> base, String wanted) {
  }

  private static double[] grid() {
    double[] g = new double[21];
    for (int i = 0; i <= 20; i++) {
      g[i] = i / 20.0;
    }
    return g;
  }
}
