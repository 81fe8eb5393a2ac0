package io.marginal.ops.report;

import io.marginal.ops.eval.cm.CmResultTable;
import io.marginal.ops.eval.cm.ConfidenceInterval;
import io.marginal.ops.eval.cm.EvalSettings;
import io.marginal.ops.eval.cm.EvaluationProtocol;
import io.marginal.ops.eval.cm.ProtocolResult;
import io.marginal.ops.eval.cm.RowGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * CM personalization under every evaluation protocol, from {@link io.marginal.ops.eval.cm.CmEvaluation}: one table per
 * protocol (datasets × row groups × methods, mean ± 95 % interval over seeds), the knobs tuned on train, a list of the
 * places where a baseline beats CM, and one chart per dataset (overall accuracy per protocol and method).
 */
public final class CmPersonalizationSection implements ReportSection {

  private final List<ProtocolResult> results;
  private final Map<String, String> dataFiles;

  /**
   * @param results   every (dataset, protocol) result, all with the same settings and methods
   * @param dataFiles dataset name (as in the results) → the file(s) it was computed from, as given on the command line
   *                  (Markdown, e.g. with the paths in backticks)
   */
  public CmPersonalizationSection(List<ProtocolResult> results, Map<String, String> dataFiles) {
    if (results.isEmpty()) {
      throw new IllegalArgumentException("no CM results to report");
    }
    for (ProtocolResult r : results) {
      if (!dataFiles.containsKey(r.dataset())) {
        throw new IllegalArgumentException("no data file named for dataset " + r.dataset() + "; got " + dataFiles.keySet());
      }
    }
    this.results = List.copyOf(results);
    this.dataFiles = Map.copyOf(dataFiles);
  }

  @Override
  public String title() {
    return "CM personalization";
  }

  @Override
  public String markdown() {
    EvalSettings s = results.get(0).settings();
    StringBuilder sb = new StringBuilder();
    sb.append("""
        **Method.** Base model: the documented stand-in until the model module serves intent distributions, a \
        TF-IDF (word uni+bigram, sublinear tf) nearest-centroid classifier fitted on the train rows; P(r | x) = \
        softmax(cos / 0.05) over the top 10 intents. Instance embedding: L2-normalised 256-d hashed TF-IDF. Simulated \
        users give feedback on TRAIN rows (THUMBS_UP when the served argmax is the user's label, else \
        PREFERRED_RESPONSE), turned into a memory bank by the streams topology's own entry/update code (bank cap %d). \
        Accuracy is against each user's labels on the eval rows. Every cell is the mean over %d seeds (%d..%d; each \
        seed draws new users, remappings and feedback) ± the half-width of a 95 %% Student-t interval over those seeds.

        **Methods** (the columns): **base** = argmax P(r | x); **T_u(y|r)** = a per-user transition counted from the \
        whole bank, ignoring the instance (same pseudo-count λ=%s toward the identity as CM); **kNN vote** = the k=%d \
        nearest bank entries vote for their preferred label (weight cos^p) plus β·P(y | x), not conditioned on the \
        model's answer (β tuned on train per protocol); **prompt-only** = copy the nearest feedback example's label \
        when its cosine exceeds a threshold (tuned on train per protocol), the closed-label-set stand-in for putting \
        feedback into an LLM's prompt; **CM** = `KnnDiscrepancyEstimator` (k=%d, λ=%s, τ=%s, p=%s), \
        P_u(y | x) = Σ_r T_u(y | r, x) P(r | x) from the k nearest entries.

        **Rows.** *changed rows*: the user's label differs from the gold label; *kept rows of remapped intents*: \
        (protocol d) the intent is remapped but this instance is not; *unaffected intents*: the no-harm check.

        """.formatted(s.bankCap(), s.seeds(), s.seed(), s.seed() + s.seeds() - 1, num(s.lambda()), s.k(), s.k(), num(s.lambda()),
        num(s.tau()), num(s.p())));
    Map<String, String> files = new LinkedHashMap<>();
    for (ProtocolResult r : results) {
      files.putIfAbsent(r.dataset(), String.format(Locale.ROOT, "%s (%d train rows, %d eval rows; base accuracy on the gold labels %.1f%%)",
          dataFiles.get(r.dataset()), r.trainRows(), r.evalRows(), 100 * r.baseTrueAccuracy()));
    }
    sb.append("**Data.** ");
    files.forEach((name, text) -> sb.append(name).append(": ").append(text).append(". "));
    sb.append("\n\n");
    for (Map.Entry<EvaluationProtocol, List<ProtocolResult>> e : byProtocol().entrySet()) {
      EvaluationProtocol p = e.getKey();
      ProtocolResult first = e.getValue().get(0);
      sb.append("### (").append(p.letter()).append(") ").append(p.flag()).append("\n\n");
      sb.append(String.format(Locale.ROOT, "%s. %d user(s) per seed, %d feedback events each.",
          capitalised(p.description()), first.usersPerSeed(), first.feedbackPerUser()));
      for (ProtocolResult r : e.getValue()) {
        sb.append(String.format(Locale.ROOT, " %s: prompt-only threshold %.2f, kNN vote β=%s (both tuned on train).", r.dataset(),
            r.promptThreshold(), num(r.knnBaseWeight())));
      }
      sb.append("\n\n");
      CmResultTable table = new CmResultTable(p, e.getValue());
      sb.append(new MarkdownTable(table.header(), table.rows()).toMarkdown()).append('\n');
    }
    sb.append("### Where CM does not win\n\n");
    sb.append(whereCmLoses());
    return sb.toString();
  }

  /**
   * Every (protocol, dataset, row group) where a baseline's mean is above CM's (default settings), marked when the
   * intervals do not overlap; CM variants (names starting with "CM") are not baselines.
   */
  String whereCmLoses() {
    StringBuilder sb = new StringBuilder();
    for (ProtocolResult r : results) {
      if (!r.methods().contains("CM")) {
        continue;
      }
      for (RowGroup g : r.groups()) {
        ConfidenceInterval cm = r.accuracy(g, "CM");
        for (String m : r.methods()) {
          ConfidenceInterval other = r.accuracy(g, m);
          if (!m.startsWith("CM") && other.mean() > cm.mean()) {
            sb.append(String.format(Locale.ROOT, "- (%s) %s, %s, %s: **%s %s** vs CM %s%s%n", r.protocol().letter(), r.protocol().flag(),
                r.dataset(), g.title(), m, CmResultTable.cell(other), CmResultTable.cell(cm),
                other.clearlyAbove(cm) ? " (intervals do not overlap)" : " (within the intervals)"));
          }
        }
      }
    }
    return sb.length() == 0 ? "Nowhere in this run: CM has the highest mean in every row.\n" : sb.toString();
  }

  @Override
  public List<Chart> charts() {
    Map<String, List<ProtocolResult>> byDataset = new LinkedHashMap<>();
    results.forEach(r -> byDataset.computeIfAbsent(r.dataset(), d -> new ArrayList<>()).add(r));
    List<Chart> charts = new ArrayList<>();
    byDataset.forEach((dataset, rs) -> {
      List<String> categories = rs.stream().map(r -> "(" + r.protocol().letter() + ") " + r.protocol().flag()).toList();
      List<Series> series = new ArrayList<>();
      for (String m : rs.get(0).methods()) {
        series.add(new Series(m, rs.stream().map(r -> 100 * r.accuracy(RowGroup.OVERALL, m).mean()).toList()));
      }
      String slug = dataset.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
      charts.add(new Chart("cm-" + slug + ".png", dataset + ": overall accuracy against the users' labels per protocol (mean over seeds)",
          PngChart.bars(dataset + ": overall accuracy vs. user labels (%)", "accuracy %", categories, series)));
    });
    return charts;
  }

  private Map<EvaluationProtocol, List<ProtocolResult>> byProtocol() {
    Map<EvaluationProtocol, List<ProtocolResult>> out = new LinkedHashMap<>();
    for (EvaluationProtocol p : EvaluationProtocol.values()) {
      for (ProtocolResult r : results) {
        if (r.protocol() == p) {
          out.computeIfAbsent(p, x -> new ArrayList<>()).add(r);
        }
      }
    }
    return out;
  }

  private static String capitalised(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  private static String num(double v) {
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
  }
}
