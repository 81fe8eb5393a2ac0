package io.marginal.ops.eval.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.weights.Projection;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MethodComparisonTest {

  private static Map<String, Double> metrics(double leak, double agreement) {
    Map<String, Double> m = new HashMap<>();
    m.put(Metrics.EVAL_LEAK + Metrics.BEFORE, 0.5);
    m.put(Metrics.EVAL_PROBES + Metrics.BEFORE, 60.0);
    m.put(Metrics.EVAL_LEAK, leak);
    m.put(Metrics.EVAL_PROBES, 60.0);
    m.put(Metrics.RETAIN_AGREEMENT, agreement);
    m.put(Metrics.RETAIN_PROMPTS, 200.0);
    m.put(Metrics.STEPS, 25.0);
    return m;
  }

  private static final UnlearningSettings BASE = UnlearningSettings.defaults();

  @Test
  void presetsChangeOnlyWhatTheirNameSays() {
    List<MethodPreset> all = MethodPreset.all(BASE);
    assertEquals(MethodPreset.KEYS, all.stream().map(MethodPreset::key).toList());
    MethodPreset reference = all.get(5);
    assertEquals(1, reference.settings().rank());
    assertEquals(Set.of(Projection.DOWN), reference.settings().targets());
    assertEquals(5e-5, reference.settings().learningRate());
    assertEquals(25, reference.settings().maxSteps());
    assertEquals(1, reference.settings().forgetBatch());
    assertEquals(0.0, all.get(3).settings().u2aTemperature());
    assertEquals(1.0, all.get(4).settings().maskTopFraction());
    assertEquals(BASE.learningRate(), all.get(1).settings().learningRate());
    assertEquals(List.of("npo", "reference"), MethodPreset.select("reference, npo", BASE).stream().map(MethodPreset::key).toList());
    assertThrows(IllegalArgumentException.class, () -> MethodPreset.select("graddiff,magic", BASE));
  }

  @Test
  void theTableShowsTheBaseAndIntervalsAndTheReadingNamesWhatDoesNotWin() {
    List<MethodPreset> presets = MethodPreset.all(BASE);
    MethodComparison c = new MethodComparison("Inception", List.of(
        new MethodComparison.Row(presets.get(0), metrics(0.05, 1.0), true),
        new MethodComparison.Row(presets.get(1), metrics(0.0, 1.0), true),
        new MethodComparison.Row(presets.get(2), metrics(0.0, 0.85), false),
        new MethodComparison.Row(presets.get(5), metrics(0.5, 1.0), false)));
    String table = ExperimentTables.methods(c);
    assertTrue(table.contains("| base model | 50.0% [37.7, 62.3] (30/60) |"), table);
    assertTrue(table.contains("| NPO (β 0.5) | 0.0% [0.0, 6.0] (0/60) |"), table);
    String reading = ExperimentTables.methodsReading(c);
    assertTrue(reading.contains("Lowest evaluation-family leak: NPO"), reading);
    assertTrue(reading.contains("Not distinguishable from it at this number of probes (overlapping 95% intervals): GradDiff"), reading);
    assertTrue(reading.contains("**No better than the base model** (interval overlaps the base's): reference recipe"), reading);
    assertTrue(reading.contains("Lowest retain agreement: refusal fine-tune at 85.0%"), reading);
    assertTrue(reading.contains("Refused by the publication gate: refusal fine-tune, reference recipe"), reading);
  }
}
