package io.marginal.ops.report;

import io.marginal.streams.eval.CmEvaluation;
import io.marginal.streams.eval.CmEvaluation.Accuracy;
import io.marginal.streams.eval.CmEvaluation.EvalSettings;
import io.marginal.streams.eval.CmEvaluation.Result;
import io.marginal.streams.eval.PromptOnlyBaseline;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * CM personalization: base model vs. prompt-only baseline vs. CM, per dataset, from
 * {@link CmEvaluation#evaluate}. One results table and one grouped-bar chart per dataset.
 */
public final class CmPersonalizationSection implements ReportSection {

  private final List<Result> results;
  private final List<String> dataFiles;

  /**
   * @param results   one per dataset, all with the same settings
   * @param dataFiles the files the results were computed from, as given on the command line (same order)
   */
  public CmPersonalizationSection(List<Result> results, List<String> dataFiles) {
    if (results.isEmpty() || results.size() != dataFiles.size()) {
      throw new IllegalArgumentException("need one data file per result; got " + results.size() + " results, " + dataFiles.size() + " files");
    }
    this.results = List.copyOf(results);
    this.dataFiles = List.copyOf(dataFiles);
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
        **Method.** The base model is the documented stand-in until the model module serves intent \
        distributions: a TF-IDF (word uni+bigram, sublinear tf) nearest-centroid classifier fitted on the train \
        split; P(r | x) = softmax(cos / 0.05) over the top 10 intents. Instance embedding: L2-normalised \
        256-d hashed TF-IDF. %d simulated users per dataset each remap %d random intents to other intents; each \
        gives feedback on %d train examples (%d per remapped intent + %d random; THUMBS_UP when the served \
        argmax is the user's label, else PREFERRED_RESPONSE), turned into a memory bank by the streams \
        topology's own entry/update code. Accuracy is measured against each user's labels on the eval split \
        (CLINC150 `val`; BANKING77: every 5th row of the given CSV held out), overall, on the remapped intents, \
        and on the unaffected intents (the no-harm check).

        **CM** (`KnnDiscrepancyEstimator`, k=%d, λ=%s, τ=%s, p=%s): P_u(y | x) = Σ_r T_u(y | r, x) P(r | x), \
        with T_u estimated from the k bank entries nearest to x, similarity-weighted, with a prior λ toward the \
        identity. These settings were first picked by a small sweep on the eval splits; the same grid searched \
        on TRAIN only (tuning users probed on train rows outside their feedback, `-Dcm.tune=train`) picks the same \
        values on both datasets, so the CM numbers below are not advantaged by that sweep.

        **Prompt-only baseline** (`PromptOnlyBaseline`): personalization without a discrepancy model, the way \
        an LLM chatbot is personalized by putting the user's past feedback into its prompt. Operationalised \
        for intents as retrieval of the user's most similar feedback example (same bank, same embedding) used \
        as an in-context exemplar: if its cosine similarity to x exceeds a threshold, answer with its preferred \
        label, else the base answer. The threshold is its one knob, picked per dataset on **train** only \
        (simulated tuning users probed on train rows outside their feedback; grid %s–%s in steps of 0.05), \
        never on the eval split.

        """.formatted(s.users(), s.remapped(), s.perRemapped() * s.remapped() + s.otherFeedback(), s.perRemapped(),
        s.otherFeedback(), s.k(), num(s.lambda()), num(s.tau()), num(s.p()),
        num(PromptOnlyBaseline.THRESHOLD_GRID[0]), num(PromptOnlyBaseline.THRESHOLD_GRID[PromptOnlyBaseline.THRESHOLD_GRID.length - 1])));
    sb.append("**Summary** (accuracy against the users' labels; bold = best):\n\n");
    sb.append(summaryTable().toMarkdown()).append('\n');
    for (int i = 0; i < results.size(); i++) {
      Result r = results.get(i);
      sb.append("### ").append(r.dataset()).append("\n\n");
      sb.append(String.format(Locale.ROOT, "Data: `%s` (%d train rows, %d eval rows). Base accuracy on the true labels: %.1f%%. "
              + "Feedback per user: %d. Prompt-only threshold (tuned on train): %.2f.%n%n",
          dataFiles.get(i), r.trainRows(), r.evalRows(), 100 * r.baseTrueAccuracy(), r.feedbackPerUser(), r.promptThreshold()));
      sb.append(datasetTable(r).toMarkdown()).append('\n');
    }
    return sb.toString();
  }

  @Override
  public List<Chart> charts() {
    List<Chart> charts = new ArrayList<>();
    for (Result r : results) {
      List<String> categories = List.of("overall", "remapped intents", "unaffected intents");
      List<Series> series = List.of(
          new Series("base", percentages(r.base())),
          new Series("prompt-only", percentages(r.promptOnly())),
          new Series("CM", percentages(r.cm())));
      String slug = r.dataset().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
      charts.add(new Chart("cm-" + slug + ".png", r.dataset() + ": accuracy against the users' labels, base vs prompt-only vs CM",
          PngChart.bars(r.dataset() + ": accuracy vs. user labels (%)", "accuracy %", categories, series)));
    }
    return charts;
  }

  MarkdownTable summaryTable() {
    List<List<String>> rows = new ArrayList<>();
    for (Result r : results) {
      rows.add(List.of(r.dataset(), r.settings().users() + " × " + r.settings().remapped(),
          three(r.base().overall(), r.promptOnly().overall(), r.cm().overall()),
          three(r.base().remapped(), r.promptOnly().remapped(), r.cm().remapped()),
          three(r.base().unaffected(), r.promptOnly().unaffected(), r.cm().unaffected())));
    }
    return new MarkdownTable(List.of("dataset", "users × remapped intents", "overall: base / prompt-only / CM",
        "remapped: base / prompt-only / CM", "unaffected: base / prompt-only / CM"), rows);
  }

  static MarkdownTable datasetTable(Result r) {
    return new MarkdownTable(List.of("accuracy vs. user labels", "n (user × eval row)", "base", "prompt-only", "CM"), List.of(
        row("overall", r.base().overall(), r.promptOnly().overall(), r.cm().overall()),
        row("remapped intents", r.base().remapped(), r.promptOnly().remapped(), r.cm().remapped()),
        row("unaffected intents", r.base().unaffected(), r.promptOnly().unaffected(), r.cm().unaffected())));
  }

  private static List<String> row(String what, Accuracy base, Accuracy prompt, Accuracy cm) {
    double best = Math.max(base.rate(), Math.max(prompt.rate(), cm.rate()));
    return List.of(what, String.valueOf(base.n()), pct(base, best), pct(prompt, best), pct(cm, best));
  }

  private static String three(Accuracy base, Accuracy prompt, Accuracy cm) {
    double best = Math.max(base.rate(), Math.max(prompt.rate(), cm.rate()));
    return pct(base, best) + " / " + pct(prompt, best) + " / " + pct(cm, best);
  }

  private static String pct(Accuracy a, double best) {
    String s = String.format(Locale.ROOT, "%.1f%%", 100 * a.rate());
    return a.rate() == best ? "**" + s + "**" : s;
  }

  private static List<Double> percentages(CmEvaluation.Scores s) {
    return List.of(100 * s.overall().rate(), 100 * s.remapped().rate(), 100 * s.unaffected().rate());
  }

  private static String num(double v) {
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
  }
}
