package io.marginal.trainer.experiment;

import io.marginal.trainer.experiment.MaskingComparison.Variant;
import io.marginal.trainer.unlearning.Metrics;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** The experiments' results as Markdown tables (the CLI prints them; the evaluation report embeds them). */
public final class ExperimentTables {

  private ExperimentTables() {
  }

  /** Rows: figures; columns: base model, then one per variant. */
  public static String masking(MaskingComparison c) {
    StringBuilder sb = new StringBuilder("| figure | base model |");
    c.variants().forEach(v -> sb.append(' ').append(v.label()).append(" |"));
    sb.append("\n| --- | --- |");
    c.variants().forEach(v -> sb.append(" --- |"));
    sb.append('\n');
    row(sb, c, "direct probes: mention rate", pct(c.base(Metrics.DIRECT_MENTION)), v -> pct(v.after(Metrics.DIRECT_MENTION)));
    row(sb, c, "paraphrased probes: mention rate", pct(c.base(Metrics.PARAPHRASE_MENTION)), v -> pct(v.after(Metrics.PARAPHRASE_MENTION)));
    row(sb, c, "held-out probes: mention rate", pct(c.base(Metrics.HELD_OUT_MENTION)), v -> pct(v.after(Metrics.HELD_OUT_MENTION)));
    row(sb, c, "direct: concept log-prob", num(c.base(Metrics.DIRECT_LOGPROB)), v -> num(v.after(Metrics.DIRECT_LOGPROB)));
    row(sb, c, "paraphrased: concept log-prob", num(c.base(Metrics.PARAPHRASE_LOGPROB)), v -> num(v.after(Metrics.PARAPHRASE_LOGPROB)));
    row(sb, c, "held-out: concept log-prob", num(c.base(Metrics.HELD_OUT_LOGPROB)), v -> num(v.after(Metrics.HELD_OUT_LOGPROB)));
    row(sb, c, "retain accuracy (expected answers)", pct(c.baseRetainAccuracy()), v -> pct(v.after(Metrics.RETAIN_ACCURACY)));
    row(sb, c, "retain agreement with base", pct(1.0), v -> pct(v.after(Metrics.RETAIN_AGREEMENT)));
    row(sb, c, "retain perplexity ratio", num(1.0), v -> num(v.after(Metrics.RETAIN_PERPLEXITY_RATIO)));
    row(sb, c, "training steps", "–", v -> num0(v.after(Metrics.STEPS)));
    row(sb, c, "neurons the update may touch", "–", v -> pct(v.after(Metrics.MASKED_FRACTION)));
    return sb.toString();
  }

  /** One row per request of the sequence, a gate line under each refused one. */
  public static String sequence(SequenceRun run) {
    StringBuilder sb = new StringBuilder("| # | concept | direct prompt | gate | paraphrase mention | held-out mention | earlier concepts, worst"
        + " mention | retain agreement (job) | retain agreement (fixed set) | retain ppl ratio (fixed set) | steps | s |\n");
    sb.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (SequenceRun.Row r : run.rows()) {
      sb.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %.3f | %s | %s |%n", r.index(), r.concept(),
          r.prompt(), r.published() ? "published v" + r.servedVersion() : "FAILED (v" + r.servedVersion() + " kept)",
          pct(r.paraphraseMention()), pct(r.heldOutMention()), pct(r.earlierMention()), pct(r.jobRetainAgreement()),
          pct(r.fixedAgreement()), r.fixedPerplexityRatio(), num0(r.steps()), num0(r.seconds())));
      if (!r.published()) {
        sb.append("|   | gate: ").append(r.gateRefusal()).append(" | | | | | | | | | | |\n");
      }
    }
    return sb.toString();
  }

  /** A text bar per point of the agreement curve, and whether the bound holds. */
  public static String agreementCurve(SequenceRun run) {
    StringBuilder sb = new StringBuilder("```\n");
    List<Double> curve = run.agreementCurve();
    for (int i = 0; i < curve.size(); i++) {
      int bar = (int) Math.round(curve.get(i) * 50);
      sb.append(String.format(Locale.ROOT, "%2d %s %s%n", i, "█".repeat(bar) + " ".repeat(50 - bar), pct(curve.get(i))));
    }
    sb.append("```\n\n").append(String.format(Locale.ROOT, "worst retain agreement over the sequence: %s — bound ≥ %s %s; the gate refused %d of %d%n",
        pct(run.worstAgreement()), pct(run.bound()), run.boundHolds() ? "HOLDS" : "VIOLATED", run.refused(), run.rows().size()));
    return sb.toString();
  }

  private static void row(StringBuilder sb, MaskingComparison c, String label, String base, Function<Variant, String> cell) {
    sb.append("| ").append(label).append(" | ").append(base).append(" |");
    c.variants().forEach(v -> sb.append(' ').append(cell.apply(v)).append(" |"));
    sb.append('\n');
  }

  public static String pct(Double v) {
    return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }

  public static String num(Double v) {
    return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%.3f", v);
  }

  public static String num0(Double v) {
    return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%.0f", v);
  }
}
