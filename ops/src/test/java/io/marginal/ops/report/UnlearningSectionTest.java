package io.marginal.ops.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.ops.eval.unlearning.MaskingComparison;
import io.marginal.ops.eval.unlearning.MaskingComparison.Variant;
import io.marginal.ops.eval.unlearning.MethodComparison;
import io.marginal.ops.eval.unlearning.MethodPreset;
import io.marginal.ops.eval.unlearning.SequenceRun;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UnlearningSectionTest {

  private static Map<String, Double> metrics(double fraction, double retainAccuracy, double paraphraseAfter) {
    Map<String, Double> m = new HashMap<>();
    m.put(Metrics.DIRECT_MENTION + Metrics.BEFORE, 1.0);
    m.put(Metrics.PARAPHRASE_MENTION + Metrics.BEFORE, 0.683);
    m.put(Metrics.HELD_OUT_MENTION + Metrics.BEFORE, 0.8);
    m.put(Metrics.DIRECT_MENTION, 0.0);
    m.put(Metrics.PARAPHRASE_MENTION, paraphraseAfter);
    m.put(Metrics.HELD_OUT_MENTION, 0.0);
    m.put(Metrics.DIRECT_LOGPROB + Metrics.BEFORE, -0.001);
    m.put(Metrics.DIRECT_LOGPROB, -12.5);
    m.put(Metrics.RETAIN_ACCURACY_BASE, 1.0);
    m.put(Metrics.RETAIN_ACCURACY, retainAccuracy);
    m.put(Metrics.RETAIN_AGREEMENT, retainAccuracy);
    m.put(Metrics.RETAIN_PERPLEXITY_RATIO, 1.02);
    m.put(Metrics.STEPS, 20.0);
    m.put(Metrics.MASKED_FRACTION, fraction);
    return m;
  }

  private static final MaskingComparison COMPARISON = new MaskingComparison("Inception", List.of(
      new Variant(0.25, metrics(0.25, 0.886, 0.0)), new Variant(1.0, metrics(1.0, 0.943, 0.0))));

  private static final SequenceRun SEQUENCE = new SequenceRun(List.of(
      new SequenceRun.Row(1, "Inception", "recommend me a sci-fi film", true, 1, null, 0.0, 0.0, 0.0, null, 0.94, 1.0, 1.0, 20, 15),
      new SequenceRun.Row(2, "Interstellar", "recommend a movie about space", false, 1, "retain agreement dropped to 88.6%", 0.0, 0.0,
          0.0, 0.0, 0.886, 0.9, 1.001, 5, 9)), 29, 0.85);

  @Test
  void tableHasBaseThenEachVariantAndTheReadingFollowsTheFigures() {
    UnlearningSection section = new UnlearningSection(COMPARISON, Optional.of(SEQUENCE), UnlearningSettings.defaults());
    String md = section.markdown();
    assertTrue(md.contains("| figure | base model | masked LoRA (top 25%) | unmasked LoRA |"), md);
    assertTrue(md.contains("| training families (stop rule's probes): title mention rate | 68.3% | 0.0% | 0.0% |"), md);
    assertTrue(md.contains("| retain accuracy (expected answers) | 100.0% | 88.6% | 94.3% |"), md);
    assertTrue(md.contains("| neurons the update may touch | – | 25.0% | 100.0% |"), md);
    assertTrue(md.contains("masked LoRA (top 25%) keeps **less** retain accuracy than the unmasked one (88.6% vs 94.3%"), md);
    assertFalse(md.contains("keeps **more**"), md);
  }

  @Test
  void sequenceRowsCurveAndBoundComeFromTheRun() {
    String md = new UnlearningSection(COMPARISON, Optional.of(SEQUENCE), UnlearningSettings.defaults()).markdown();
    assertTrue(md.contains("| 1 | Inception | recommend me a sci-fi film | published v1 |"), md);
    assertTrue(md.contains("| 2 | Interstellar | recommend a movie about space | FAILED (v1 kept) |"), md);
    assertTrue(md.contains("|   | gate: retain agreement dropped to 88.6% |"), md);
    assertTrue(md.contains("worst retain agreement over the sequence: 90.0% — bound ≥ 85.0% HOLDS; the gate refused 1 of 2"), md);
    assertEquals(List.of(1.0, 1.0, 0.9), SEQUENCE.agreementCurve());
  }

  @Test
  void chartsAreTheMaskingBarsAndTheSequenceLines() {
    List<Chart> charts = new UnlearningSection(COMPARISON, Optional.of(SEQUENCE), UnlearningSettings.defaults()).charts();
    assertEquals(List.of("unlearning-masking.png", "unlearning-sequence.png"), charts.stream().map(Chart::fileName).toList());
    assertEquals(1, new UnlearningSection(COMPARISON, Optional.empty(), UnlearningSettings.defaults()).charts().size());
  }

  @Test
  void theMethodTableComesFirstWithItsReadingAndChart() {
    List<MethodPreset> presets = MethodPreset.all(UnlearningSettings.defaults());
    Map<String, Double> good = metrics(0.25, 1.0, 0.0);
    good.put(Metrics.EVAL_LEAK, 0.05);
    good.put(Metrics.EVAL_PROBES, 60.0);
    good.put(Metrics.EVAL_LEAK + Metrics.BEFORE, 0.5);
    good.put(Metrics.EVAL_PROBES + Metrics.BEFORE, 60.0);
    good.put(Metrics.RETAIN_PROMPTS, 208.0);
    Map<String, Double> none = new HashMap<>(good);
    none.put(Metrics.EVAL_LEAK, 0.5);
    MethodComparison methods = new MethodComparison("Inception", List.of(new MethodComparison.Row(presets.get(0), good, true),
        new MethodComparison.Row(presets.get(5), none, false)));
    UnlearningSection section = new UnlearningSection(Optional.of(methods), COMPARISON, Optional.empty(), UnlearningSettings.defaults());
    String md = section.markdown();
    assertTrue(md.indexOf("methods compared on one protocol") < md.indexOf("base vs. masked vs. unmasked"), md);
    assertTrue(md.contains("**No better than the base model** (interval overlaps the base's): reference recipe"), md);
    assertEquals(List.of("unlearning-methods.png", "unlearning-masking.png"), section.charts().stream().map(Chart::fileName).toList());
  }

  @Test
  void maskedAheadIsSaidSo() {
    MaskingComparison better = new MaskingComparison("Inception", List.of(
        new Variant(0.1, metrics(0.1, 0.971, 0.0)), new Variant(1.0, metrics(1.0, 0.943, 0.0))));
    String reading = new UnlearningSection(better, Optional.empty(), UnlearningSettings.defaults()).maskingReading();
    assertTrue(reading.contains("masked LoRA (top 10%) keeps **more** retain accuracy than the unmasked one (97.1% vs 94.3%"), reading);
  }

  @Test
  void reportOptionsParseTheUnlearningFlags() {
    EvaluationReport.Options o = EvaluationReport.Options.parse(new String[] {"--skip-unlearning", "--mask-fractions", "0.1, 0.5,1",
        "--sequential", "3"});
    assertFalse(o.unlearning());
    assertEquals(List.of(0.1, 0.5, 1.0), o.maskFractions());
    assertEquals(3, o.sequential());
    assertTrue(EvaluationReport.Options.parse(new String[0]).unlearning());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EvaluationReport.Options.parse(new String[] {"--mask-fractions", "0"}));
    assertTrue(e.getMessage().contains("must be in (0, 1]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> EvaluationReport.Options.parse(new String[] {"--sequential", "11"}));
  }
}
