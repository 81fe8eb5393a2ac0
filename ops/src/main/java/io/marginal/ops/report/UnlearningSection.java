package io.marginal.ops.report;

import io.marginal.trainer.experiment.ExperimentTables;
import io.marginal.trainer.experiment.MaskingComparison;
import io.marginal.trainer.experiment.MaskingComparison.Variant;
import io.marginal.trainer.experiment.SequenceRun;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Unlearning on the demo model, from the trainer's experiment API ({@code UnlearningExperiments}): forget efficacy
 * on direct, paraphrased and held-out probes and retain utility before/after, masked vs. unmasked LoRA, and the
 * retain-agreement curve over sequential requests. The reading under each table is computed from the figures,
 * so it says plainly when the masked adapter does not come out ahead.
 */
public final class UnlearningSection implements ReportSection {

  private final MaskingComparison comparison;
  private final Optional<SequenceRun> sequence;
  private final UnlearningSettings settings;

  public UnlearningSection(MaskingComparison comparison, Optional<SequenceRun> sequence, UnlearningSettings settings) {
    this.comparison = comparison;
    this.sequence = sequence;
    this.settings = settings;
  }

  @Override
  public String title() {
    return "Unlearning";
  }

  @Override
  public String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, """
        **Method.** The trainer's own job (`MaskedLoraUnlearningJob`) on the demo model, objective %s, LoRA rank %d \
        on %s, learning rate %s, at most %d steps with early stopping once no *training* probe mentions the concept. \
        Probes: *direct* = the request's prompts; *paraphrased* = template rewrites of them (some trained on, all \
        measured); *held-out* = paraphrases never trained on. Mention rate = share of greedy answers naming the \
        concept (whole word); log-prob = mean log-probability of the concept's tokens after each probe. Retain \
        utility: held-out everyday prompts (accuracy against their expected answers, agreement with the base \
        model's answer, perplexity ratio against the base). Masked variants keep the top fraction of each \
        module's output neurons by forget/retain saliency+Fisher ratio; the unmasked one may touch every neuron; \
        everything else is identical (same request, seed and stopping rule).

        """, settings.objective(), settings.rank(), new java.util.TreeSet<>(settings.targets()), settings.learningRate(), settings.maxSteps()));
    sb.append("### Forget \"").append(comparison.concept()).append("\": base vs. masked vs. unmasked LoRA\n\n");
    sb.append(ExperimentTables.masking(comparison)).append('\n');
    sb.append(maskingReading()).append("\n\n");
    sequence.ifPresent(run -> {
      sb.append("### ").append(run.rows().size()).append(" sequential requests on one scope\n\n");
      sb.append("Each request continues the last published version of the shared adapter (five titles, a director, then "
          + "re-requests in new phrasings). Retain agreement (fixed set) is measured on ").append(run.fixedPrompts())
          .append(" held-out retain prompts whose base answers name none of the concepts, for the version *served* after each "
              + "request; the job's own retain agreement also covers the remaining film prompts. A request the publication "
              + "gate refuses is reported FAILED with its figures and the previous version keeps serving.\n\n");
      sb.append(ExperimentTables.sequence(run)).append('\n');
      sb.append(ExperimentTables.agreementCurve(run)).append('\n');
    });
    return sb.toString();
  }

  /** Which variant kept more retain utility, in words, from the figures. */
  String maskingReading() {
    Optional<Variant> unmasked = comparison.variants().stream().filter(v -> !v.masked()).findFirst();
    List<Variant> masked = comparison.variants().stream().filter(Variant::masked).toList();
    if (unmasked.isEmpty() || masked.isEmpty()) {
      return "_Only one kind of adapter was run; no masked/unmasked comparison._";
    }
    Variant u = unmasked.get();
    List<String> parts = new ArrayList<>();
    for (Variant m : masked) {
      double dm = m.after(Metrics.RETAIN_ACCURACY);
      double du = u.after(Metrics.RETAIN_ACCURACY);
      String verdict = dm > du ? "keeps **more** retain accuracy than" : dm == du ? "keeps the **same** retain accuracy as"
          : "keeps **less** retain accuracy than";
      parts.add(String.format(Locale.ROOT, "the %s %s the unmasked one (%s vs %s; paraphrased mention %s vs %s)", m.label(),
          verdict, ExperimentTables.pct(dm), ExperimentTables.pct(du), ExperimentTables.pct(m.after(Metrics.PARAPHRASE_MENTION)),
          ExperimentTables.pct(u.after(Metrics.PARAPHRASE_MENTION))));
    }
    return "**Reading.** At the same stopping rule, " + String.join("; ", parts) + ". Training is deterministic (same seed, same "
        + "figures run to run), but the retain set is small (35 prompts, one prompt ≈ 3 points): a one-prompt difference is a "
        + "tendency on this model, not a general result.";
  }

  @Override
  public List<Chart> charts() {
    List<Chart> charts = new ArrayList<>();
    List<String> categories = List.of("direct mention", "paraphrased mention", "held-out mention", "retain accuracy", "retain agreement");
    List<Series> series = new ArrayList<>();
    series.add(new Series("base model", percent(comparison.base(Metrics.DIRECT_MENTION), comparison.base(Metrics.PARAPHRASE_MENTION),
        comparison.base(Metrics.HELD_OUT_MENTION), comparison.baseRetainAccuracy(), 1.0)));
    for (Variant v : comparison.variants()) {
      series.add(new Series(v.label(), percent(v.after(Metrics.DIRECT_MENTION), v.after(Metrics.PARAPHRASE_MENTION),
          v.after(Metrics.HELD_OUT_MENTION), v.after(Metrics.RETAIN_ACCURACY), v.after(Metrics.RETAIN_AGREEMENT))));
    }
    charts.add(new Chart("unlearning-masking.png", "Forgetting \"" + comparison.concept()
        + "\": mention rates (lower is better) and retain utility (higher is better), base vs masked vs unmasked LoRA",
        PngChart.bars("Forget \"" + comparison.concept() + "\": mention rate and retain utility (%)", "%", categories, series)));
    sequence.ifPresent(run -> {
      List<String> x = new ArrayList<>();
      List<Double> job = new ArrayList<>();
      List<Double> earlier = new ArrayList<>();
      x.add("base");
      job.add(100.0);
      earlier.add(0.0);
      for (SequenceRun.Row r : run.rows()) {
        x.add(String.valueOf(r.index()));
        job.add(r.jobRetainAgreement() == null ? 0.0 : 100 * r.jobRetainAgreement());
        earlier.add(r.earlierMention() == null ? 0.0 : 100 * r.earlierMention());
      }
      List<Double> fixed = run.agreementCurve().stream().map(v -> 100 * v).toList();
      List<Double> bound = x.stream().map(s -> 100 * run.bound()).toList();
      charts.add(new Chart("unlearning-sequence.png", "Retain agreement and earlier concepts' mention rate after each sequential request",
          PngChart.lines("Sequential requests: retain agreement and earlier-concept mention (%)", "%", x, List.of(
              new Series("agreement, fixed set", fixed),
              new Series("agreement, job's set", job),
              new Series("earlier concepts: mention", earlier),
              new Series("bound", bound)))));
    });
    return charts;
  }

  private static List<Double> percent(Double... values) {
    List<Double> out = new ArrayList<>();
    for (Double v : values) {
      out.add(v == null || v.isNaN() ? 0.0 : 100 * v);
    }
    return out;
  }
}
