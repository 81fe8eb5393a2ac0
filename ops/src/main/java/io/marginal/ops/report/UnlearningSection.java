package io.marginal.ops.report;

import io.marginal.ops.eval.unlearning.ExperimentTables;
import io.marginal.ops.eval.unlearning.MaskingComparison;
import io.marginal.ops.eval.unlearning.MaskingComparison.Variant;
import io.marginal.ops.eval.unlearning.MethodComparison;
import io.marginal.ops.eval.unlearning.SequenceRun;
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
  private final Optional<MethodComparison> methods;
  private final UnlearningSettings settings;

  public UnlearningSection(MaskingComparison comparison, Optional<SequenceRun> sequence, UnlearningSettings settings) {
    this(Optional.empty(), comparison, sequence, settings);
  }

  public UnlearningSection(Optional<MethodComparison> methods, MaskingComparison comparison, Optional<SequenceRun> sequence,
                           UnlearningSettings settings) {
    this.methods = methods;
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
        on %s, learning rate %s, at most %d steps with early stopping once no *training* probe names the concept. \
        Probe families are disjoint: *training families* (the request's prompts, their synonym rewrites and the \
        training templates) give the targets and the early stop; *evaluation families* (reworded, indirect — \
        director, year, plot —, typos, other languages) are never trained on, and none is within one word of a \
        training prompt. **Headline: the evaluation-family leak rate** — share of greedy answers that give the \
        concept away by its title, an alias, its director or a distinctive plot keyword (per-concept cards), with \
        a 95%% Wilson interval. The training-family title mention is the stopping rule's own figure and is shown \
        apart. Retain utility: ≥ 200 held-out everyday prompts (odd phrasings of trained intents and every \
        phrasing of intents the retain loss never sees, in four surface forms): agreement with the base model's \
        answer (95%% interval), accuracy against expected answers, perplexity ratio.

        """, settings.objective(), settings.rank(), new java.util.TreeSet<>(settings.targets()), settings.learningRate(), settings.maxSteps()));
    methods.ifPresent(m -> {
      sb.append("### Forget \"").append(m.concept()).append("\": methods compared on one protocol\n\n");
      sb.append(ExperimentTables.methods(m)).append('\n');
      sb.append(ExperimentTables.methodsReading(m)).append("\n\n");
    });
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
      parts.add(String.format(Locale.ROOT, "the %s %s the unmasked one (%s vs %s; evaluation-family leak %s vs %s)", m.label(),
          verdict, ExperimentTables.pct(dm), ExperimentTables.pct(du), ExperimentTables.pct(m.after(Metrics.EVAL_LEAK)),
          ExperimentTables.pct(u.after(Metrics.EVAL_LEAK))));
    }
    Double n = u.after(Metrics.RETAIN_PROMPTS);
    String size = n == null ? "" : String.format(Locale.ROOT, " (%.0f retain prompts, one prompt ≈ %.1f points)", n, 100 / n);
    return "**Reading.** At the same stopping rule, " + String.join("; ", parts) + ". Training is deterministic (same seed, same "
        + "figures run to run)" + size + "; compare differences with the 95% intervals of the method table.";
  }

  @Override
  public List<Chart> charts() {
    List<Chart> charts = new ArrayList<>();
    methods.ifPresent(m -> {
      List<String> names = new ArrayList<>();
      List<Double> leak = new ArrayList<>();
      List<Double> agreement = new ArrayList<>();
      names.add("base");
      leak.add(100 * m.baseEvaluationLeak().rate());
      agreement.add(100.0);
      for (MethodComparison.Row r : m.rows()) {
        names.add(r.preset().key());
        leak.add(100 * r.evaluationLeak().rate());
        agreement.add(100 * r.retainAgreement().rate());
      }
      charts.add(new Chart("unlearning-methods.png", "Forgetting \"" + m.concept() + "\" by method: evaluation-family leak rate (lower is"
          + " better) and retain agreement (higher is better)", PngChart.bars("Methods: eval-family leak and retain agreement (%)", "%",
          names, List.of(new Series("eval-family leak", leak), new Series("retain agreement", agreement)))));
    });
    List<String> categories = List.of("direct mention", "training-family mention", "eval-family leak", "retain accuracy", "retain agreement");
    List<Series> series = new ArrayList<>();
    series.add(new Series("base model", percent(comparison.base(Metrics.DIRECT_MENTION), comparison.base(Metrics.PARAPHRASE_MENTION),
        comparison.base(Metrics.EVAL_LEAK), comparison.baseRetainAccuracy(), 1.0)));
    for (Variant v : comparison.variants()) {
      series.add(new Series(v.label(), percent(v.after(Metrics.DIRECT_MENTION), v.after(Metrics.PARAPHRASE_MENTION),
          v.after(Metrics.EVAL_LEAK), v.after(Metrics.RETAIN_ACCURACY), v.after(Metrics.RETAIN_AGREEMENT))));
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
