package io.marginal.ops.eval.unlearning;

import io.marginal.ops.eval.unlearning.MaskingComparison.Variant;
import io.marginal.trainer.unlearning.EvaluationProbes;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.Proportion;
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
    row(sb, c, "**evaluation families: leak rate (name, director, plot)**", pct(c.base(Metrics.EVAL_LEAK)), v -> pct(v.after(Metrics.EVAL_LEAK)));
    row(sb, c, "evaluation families: title mention rate", pct(c.base(Metrics.HELD_OUT_MENTION)), v -> pct(v.after(Metrics.HELD_OUT_MENTION)));
    row(sb, c, "training families (stop rule's probes): title mention rate", pct(c.base(Metrics.PARAPHRASE_MENTION)),
        v -> pct(v.after(Metrics.PARAPHRASE_MENTION)));
    row(sb, c, "direct: concept log-prob", num(c.base(Metrics.DIRECT_LOGPROB)), v -> num(v.after(Metrics.DIRECT_LOGPROB)));
    row(sb, c, "training families: concept log-prob", num(c.base(Metrics.PARAPHRASE_LOGPROB)), v -> num(v.after(Metrics.PARAPHRASE_LOGPROB)));
    row(sb, c, "evaluation families: concept log-prob", num(c.base(Metrics.HELD_OUT_LOGPROB)), v -> num(v.after(Metrics.HELD_OUT_LOGPROB)));
    row(sb, c, "retain accuracy (expected answers)", pct(c.baseRetainAccuracy()), v -> pct(v.after(Metrics.RETAIN_ACCURACY)));
    row(sb, c, "retain agreement with base [95% CI]", pct(1.0), v -> MethodComparison.proportion(v.metrics(), Metrics.RETAIN_AGREEMENT,
        Metrics.RETAIN_PROMPTS).toString());
    row(sb, c, "retain agreement, held-out intents", pct(1.0), v -> pct(v.after(Metrics.RETAIN_HELD_OUT_INTENT_AGREEMENT)));
    row(sb, c, "retain perplexity ratio", num(1.0), v -> num(v.after(Metrics.RETAIN_PERPLEXITY_RATIO)));
    row(sb, c, "training steps", "–", v -> num0(v.after(Metrics.STEPS)));
    row(sb, c, "neurons the update may touch", "–", v -> pct(v.after(Metrics.MASKED_FRACTION)));
    return sb.toString();
  }

  /**
   * One row per method, plus the base model. The headline column is the evaluation-family leak rate with its
   * 95 % Wilson interval; the training-family title mention (what the early stop watches) is a separate column.
   */
  public static String methods(MethodComparison c) {
    StringBuilder sb = new StringBuilder("| method | **eval-family leak** [95% CI] | reworded | indirect | typos | other language "
        + "| eval-family title mention | training-family title mention (stop rule) | training-family leak | retain agreement [95% CI] "
        + "| held-out intents agreement | retain ppl ratio | steps | gate |\n");
    sb.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    Proportion baseLeak = c.baseEvaluationLeak();
    sb.append("| base model | ").append(baseLeak).append(" |");
    for (String family : EvaluationProbes.FAMILIES) {
      sb.append(' ').append(pct(c.base(Metrics.familyLeak(family)))).append(" |");
    }
    sb.append(' ').append(pct(c.base(Metrics.HELD_OUT_MENTION))).append(" | ").append(pct(c.base(Metrics.PARAPHRASE_MENTION)))
        .append(" | ").append(pct(c.base(Metrics.TRAINING_LEAK))).append(" | 100% | 100% | 1.000 | – | – |\n");
    for (MethodComparison.Row r : c.rows()) {
      sb.append("| ").append(r.preset().label()).append(" | ").append(r.evaluationLeak()).append(" |");
      for (String family : EvaluationProbes.FAMILIES) {
        sb.append(' ').append(pct(r.after(Metrics.familyLeak(family)))).append(" |");
      }
      sb.append(' ').append(pct(r.after(Metrics.HELD_OUT_MENTION))).append(" | ").append(pct(r.after(Metrics.PARAPHRASE_MENTION)))
          .append(" | ").append(pct(r.after(Metrics.TRAINING_LEAK))).append(" | ").append(r.retainAgreement()).append(" | ")
          .append(pct(r.after(Metrics.RETAIN_HELD_OUT_INTENT_AGREEMENT))).append(" | ").append(num(r.after(Metrics.RETAIN_PERPLEXITY_RATIO)))
          .append(" | ").append(num0(r.after(Metrics.STEPS))).append(" | ").append(r.passedGate() ? "passed" : "refused").append(" |\n");
    }
    return sb.toString();
  }

  /**
   * What the method table says, computed from the figures: which method leaks least on the evaluation families,
   * which are indistinguishable from it (overlapping 95 % intervals), which are no better than the base model,
   * and which changed the most retain prompts — so a method that does not win is named as such.
   */
  public static String methodsReading(MethodComparison c) {
    List<MethodComparison.Row> rows = c.rows();
    MethodComparison.Row best = rows.stream().min(java.util.Comparator.comparingDouble(r -> r.evaluationLeak().rate())).orElseThrow();
    Proportion b = best.evaluationLeak();
    List<String> ties = new java.util.ArrayList<>();
    List<String> worse = new java.util.ArrayList<>();
    List<String> noBetterThanBase = new java.util.ArrayList<>();
    Proportion base = c.baseEvaluationLeak();
    for (MethodComparison.Row r : rows) {
      Proportion p = r.evaluationLeak();
      if (r != best) {
        (p.low() <= b.high() ? ties : worse).add(r.preset().label() + " (" + pct(p.rate()) + ")");
      }
      if (p.high() >= base.low()) {
        noBetterThanBase.add(r.preset().label());
      }
    }
    MethodComparison.Row worstRetain = rows.stream().min(java.util.Comparator.comparingDouble(r -> r.retainAgreement().rate())).orElseThrow();
    StringBuilder sb = new StringBuilder("**Reading (computed from the table).** Lowest evaluation-family leak: ")
        .append(best.preset().label()).append(" at ").append(b).append(" (base model ").append(base).append("). ");
    sb.append(ties.isEmpty() ? "No other method's interval overlaps it. " : "Not distinguishable from it at this number of probes "
        + "(overlapping 95% intervals): " + String.join(", ", ties) + ". ");
    if (!worse.isEmpty()) {
      sb.append("Leaks more, beyond the intervals: ").append(String.join(", ", worse)).append(". ");
    }
    if (!noBetterThanBase.isEmpty()) {
      sb.append("**No better than the base model** (interval overlaps the base's): ").append(String.join(", ", noBetterThanBase)).append(". ");
    }
    sb.append("Lowest retain agreement: ").append(worstRetain.preset().label()).append(" at ").append(worstRetain.retainAgreement())
        .append(". Refused by the publication gate: ")
        .append(rows.stream().filter(r -> !r.passedGate()).map(r -> r.preset().label()).reduce((x, y) -> x + ", " + y).orElse("none"))
        .append('.');
    return sb.toString();
  }

  /** One row per request of the sequence, a gate line under each refused one. */
  public static String sequence(SequenceRun run) {
    StringBuilder sb = new StringBuilder("| # | concept | direct prompt | gate | **eval-family leak** | eval-family title mention "
        + "| training-family title mention | earlier concepts, worst mention | retain agreement (job) | retain agreement (fixed set) "
        + "| retain ppl ratio (fixed set) | steps | s |\n");
    sb.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (SequenceRun.Row r : run.rows()) {
      sb.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.3f | %s | %s |%n", r.index(), r.concept(),
          r.prompt(), r.published() ? "published v" + r.servedVersion() : "FAILED (v" + r.servedVersion() + " kept)",
          pct(r.evalLeak()), pct(r.heldOutMention()), pct(r.paraphraseMention()), pct(r.earlierMention()), pct(r.jobRetainAgreement()),
          pct(r.fixedAgreement()), r.fixedPerplexityRatio(), num0(r.steps()), num0(r.seconds())));
      if (!r.published()) {
        sb.append("|   | gate: ").append(r.gateRefusal()).append(" | | | | | | | | | | | |\n");
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
