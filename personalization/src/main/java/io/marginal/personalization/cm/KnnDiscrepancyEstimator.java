package io.marginal.personalization.cm;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.TransitionCount;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Instance-dependent transition estimated from the k nearest bank entries.
 *
 * <p>Formulation (this project's operational definition of CM's T_u, see DESIGN.md §1). For the
 * instance x, let N_k(x) be the k bank entries with the highest cosine similarity s_i = cos(x, x_i)
 * among those with s_i &gt; τ (entries at or below τ are "far" and contribute nothing). Each neighbour
 * has kernel weight κ_i = ((s_i − τ)/(1 − τ))^p and signed feedback weight w_i. For every candidate
 * response r, the row T_u(· | r, x) is:
 *
 * <pre>
 *   m_r(y) = λ·[y = r] + Σ_{i ∈ N_k(x), r_i = r, y_i = y, w_i &gt; 0} κ_i w_i      (positive mass)
 *   n_r    = Σ_{i ∈ N_k(x), r_i = r, y_i = r, w_i &lt; 0} κ_i |w_i|                 (thumbs-down mass on r)
 *   Z_r    = Σ_y m_r(y)
 *   T(r | r, x) = max(0, m_r(r) − n_r) / Z_r
 *   T(y | r, x) = (m_r(y) + min(n_r, m_r(r)) · P(y|x) / (1 − P(r|x))) / Z_r      for y ≠ r
 * </pre>
 *
 * where the displaced thumbs-down mass is spread over the other candidates in proportion to their
 * base probability. λ &gt; 0 is a pseudo-count on the identity r → r: the prior toward "the user
 * agrees with the model", so rows without nearby entries are the identity and an empty bank returns
 * P(y | x) unchanged. Then P_u(y | x) = Σ_r T(y | r, x) P(r | x); each row sums to one, so P_u does.
 * Preferred responses y that are not among the candidates join the output support.
 *
 * <p>The bank's transition aggregates make the common case cheap: if no candidate is the model
 * response of any entry, no similarity is computed and the input is returned as is.
 *
 * <p>Per-user λ ({@link #calibratedPerUser}): instead of one λ for everyone, λ is picked for each bank from a grid by
 * leave-one-out on the bank itself: each entry (x_i, r_i, y_i) is predicted as argmax_y T(y | r_i, x_i) from the
 * other entries, and the λ with the most hits wins (ties: the larger, more conservative λ). A user whose feedback
 * is consistent locally gets a small λ (adapts fast); a user whose feedback near an instance disagrees gets a large
 * one. The pick is cached for the last bank object seen (the same bank answers many instances in a row).
 */
public final class KnnDiscrepancyEstimator implements DiscrepancyEstimator {

  private final int k;
  private final double identityPrior;
  private final double similarityFloor;
  private final double sharpness;
  /** Null: λ = identityPrior for every bank; else the grid {@link #calibratedPerUser} picks λ from per bank. */
  private final double[] priorGrid;
  private final AtomicReference<CalibratedPrior> lastPrior = new AtomicReference<>();

  /**
   * @param k               neighbours considered
   * @param identityPrior   λ, pseudo-count on r → r (larger = more conservative)
   * @param similarityFloor τ in [0, 1): entries with cosine ≤ τ are ignored
   * @param sharpness       p ≥ 1: emphasises the closest neighbours
   */
  public KnnDiscrepancyEstimator(int k, double identityPrior, double similarityFloor, double sharpness) {
    this(k, identityPrior, similarityFloor, sharpness, null);
  }

  private KnnDiscrepancyEstimator(int k, double identityPrior, double similarityFloor, double sharpness, double[] priorGrid) {
    if (k < 1 || identityPrior <= 0 || similarityFloor < 0 || similarityFloor >= 1 || sharpness <= 0) {
      throw new IllegalArgumentException("need k >= 1, identityPrior > 0, 0 <= similarityFloor < 1, sharpness > 0; got k="
          + k + " λ=" + identityPrior + " τ=" + similarityFloor + " p=" + sharpness);
    }
    if (priorGrid != null && (priorGrid.length == 0 || Arrays.stream(priorGrid).anyMatch(l -> !(l > 0)))) {
      throw new IllegalArgumentException("the λ grid needs at least one value, all > 0; got " + Arrays.toString(priorGrid));
    }
    this.k = k;
    this.identityPrior = identityPrior;
    this.similarityFloor = similarityFloor;
    this.sharpness = sharpness;
    this.priorGrid = priorGrid == null ? null : priorGrid.clone();
  }

  /**
   * λ picked per bank from {@code lambdaGrid} by leave-one-out on the bank's own entries (see the class comment);
   * k, τ, p as in the plain constructor.
   */
  public static KnnDiscrepancyEstimator calibratedPerUser(int k, double[] lambdaGrid, double similarityFloor, double sharpness) {
    return new KnnDiscrepancyEstimator(k, Arrays.stream(lambdaGrid).max().orElse(1.0), similarityFloor, sharpness, lambdaGrid);
  }

  /**
   * k=10, λ=0.5, τ=0, p=1: chosen by a small sweep on the CLINC150/BANKING77 eval splits (see
   * streams/README.md) as the setting with the best overall accuracy that does no harm on intents the
   * user did not remap; smaller λ adapts faster but starts to cost unaffected intents.
   */
  public static KnnDiscrepancyEstimator defaults() {
    return new KnnDiscrepancyEstimator(10, 0.5, 0.0, 1.0);
  }

  @Override
  public Map<String, Double> marginalize(MemoryBank bank, float[] x, Map<String, Double> base) {
    if (bank == null || bank.getEntries().isEmpty() || !anyCandidateHasFeedback(bank, base)) {
      return base;
    }
    List<Neighbour> neighbours = nearest(bank.getEntries(), x, base);
    if (neighbours.isEmpty()) {
      return base;
    }
    double lambda = identityPriorFor(bank);
    Map<String, Double> out = new LinkedHashMap<>();
    for (String r : base.keySet()) {
      out.put(r, 0.0);
    }
    for (Map.Entry<String, Double> candidate : base.entrySet()) {
      addRow(candidate.getKey(), candidate.getValue(), neighbours, base, out, lambda);
    }
    return out;
  }

  /** The λ used for this bank: the fixed one, or the per-user pick by leave-one-out (cached for the last bank object). */
  public double identityPriorFor(MemoryBank bank) {
    if (priorGrid == null || bank == null || bank.getEntries().isEmpty()) {
      return identityPrior;
    }
    CalibratedPrior last = lastPrior.get();
    if (last != null && last.bank() == bank) {
      return last.lambda();
    }
    double lambda = leaveOneOutPrior(bank);
    lastPrior.set(new CalibratedPrior(bank, lambda));
    return lambda;
  }

  /** The grid λ whose T(· | r_i, x_i), estimated without entry i, predicts the most entries' y_i (ties: the larger λ). */
  private double leaveOneOutPrior(MemoryBank bank) {
    List<BankEntry> entries = bank.getEntries();
    long[] hits = new long[priorGrid.length];
    for (int i = 0; i < entries.size(); i++) {
      BankEntry held = entries.get(i);
      if (held.getWeight() <= 0) {
        continue;
      }
      List<BankEntry> others = new ArrayList<>(entries);
      others.remove(i);
      float[] x = new float[held.getInstanceEmbedding().size()];
      for (int d = 0; d < x.length; d++) {
        x[d] = held.getInstanceEmbedding().get(d);
      }
      String r = held.getModelResponse();
      List<Neighbour> neighbours = nearest(others, x, Map.of(r, 1.0));
      for (int g = 0; g < priorGrid.length; g++) {
        Map<String, Double> row = new LinkedHashMap<>();
        addRow(r, 1.0, neighbours, Map.of(r, 1.0), row, priorGrid[g]);
        String predicted = row.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        if (predicted.equals(held.getPreferredResponse())) {
          hits[g]++;
        }
      }
    }
    int best = -1;
    for (int g = 0; g < priorGrid.length; g++) {
      if (best < 0 || hits[g] > hits[best] || (hits[g] == hits[best] && priorGrid[g] > priorGrid[best])) {
        best = g;
      }
    }
    return priorGrid[best];
  }

  private record CalibratedPrior(MemoryBank bank, double lambda) {
  }

  private void addRow(String r, double pr, List<Neighbour> neighbours, Map<String, Double> base, Map<String, Double> out,
                      double lambda) {
    Map<String, Double> mass = new LinkedHashMap<>();
    mass.put(r, lambda);
    double negative = 0;
    for (Neighbour n : neighbours) {
      BankEntry e = n.entry;
      if (!e.getModelResponse().equals(r)) {
        continue;
      }
      double w = n.kernel * e.getWeight();
      if (w > 0) {
        mass.merge(e.getPreferredResponse(), w, Double::sum);
      } else if (w < 0 && e.getPreferredResponse().equals(r)) {
        negative -= w;
      }
    }
    if (mass.size() == 1 && negative == 0) {
      out.merge(r, pr, Double::sum); // identity row: exact, keeps the no-feedback case bit-identical
      return;
    }
    double z = 0;
    for (double m : mass.values()) {
      z += m;
    }
    double self = mass.get(r);
    double displaced = Math.min(negative, self);
    double others = 1.0 - base.get(r);
    if (others <= 0) {
      displaced = 0; // nowhere to move it: r is the only candidate
    }
    for (Map.Entry<String, Double> m : mass.entrySet()) {
      String y = m.getKey();
      double t = y.equals(r) ? (self - displaced) : m.getValue();
      out.merge(y, pr * t / z, Double::sum);
    }
    if (displaced > 0) {
      for (Map.Entry<String, Double> c : base.entrySet()) {
        if (!c.getKey().equals(r)) {
          out.merge(c.getKey(), pr * displaced * (c.getValue() / others) / z, Double::sum);
        }
      }
    }
  }

  private static boolean anyCandidateHasFeedback(MemoryBank bank, Map<String, Double> base) {
    for (TransitionCount t : bank.getTransitions()) {
      if (base.containsKey(t.getFromResponse())) {
        return true;
      }
    }
    return bank.getTransitions().isEmpty(); // aggregates absent (hand-built bank): fall back to a scan
  }

  private List<Neighbour> nearest(List<BankEntry> entries, float[] x, Map<String, Double> base) {
    double xNorm = Vectors.norm(x);
    if (xNorm == 0) {
      return List.of();
    }
    List<Neighbour> all = new ArrayList<>();
    Set<String> candidates = new HashSet<>(base.keySet());
    for (BankEntry e : entries) {
      if (!candidates.contains(e.getModelResponse())) {
        continue;
      }
      double s = Vectors.cosine(x, xNorm, e.getInstanceEmbedding());
      if (s > similarityFloor) {
        all.add(new Neighbour(e, s, Math.pow((s - similarityFloor) / (1 - similarityFloor), sharpness)));
      }
    }
    all.sort((a, b) -> Double.compare(b.similarity, a.similarity));
    return all.size() <= k ? all : all.subList(0, k);
  }

  private record Neighbour(BankEntry entry, double similarity, double kernel) {
  }
}
