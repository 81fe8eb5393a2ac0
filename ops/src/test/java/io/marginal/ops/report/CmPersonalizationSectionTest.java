package io.marginal.ops.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.ops.eval.cm.ConfidenceInterval;
import io.marginal.ops.eval.cm.EvalSettings;
import io.marginal.ops.eval.cm.EvaluationProtocol;
import io.marginal.ops.eval.cm.ProtocolResult;
import io.marginal.ops.eval.cm.RowGroup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CmPersonalizationSectionTest {

  private static final List<String> METHODS = List.of("base", "T_u(y|r)", "kNN vote", "prompt-only", "CM");

  private static ProtocolResult result(EvaluationProtocol protocol, double[] overall, double[] changed) {
    Map<RowGroup, Map<String, ConfidenceInterval>> accuracy = new LinkedHashMap<>();
    accuracy.put(RowGroup.OVERALL, intervals(overall));
    accuracy.put(RowGroup.CHANGED, intervals(changed));
    return new ProtocolResult("CLINC150", protocol, EvalSettings.defaults(), 15000, 3000, 10, 180, 0.822, 0.5, 16, METHODS, accuracy,
        Map.of(RowGroup.OVERALL, 30000.0, RowGroup.CHANGED, 1600.0));
  }

  private static Map<String, ConfidenceInterval> intervals(double[] means) {
    Map<String, ConfidenceInterval> out = new LinkedHashMap<>();
    for (int i = 0; i < METHODS.size(); i++) {
      out.put(METHODS.get(i), new ConfidenceInterval(means[i], 0.01, 5));
    }
    return out;
  }

  @Test
  void oneTablePerProtocolWithIntervalsTheBestInBoldAndWhereCmLoses() {
    CmPersonalizationSection section = new CmPersonalizationSection(List.of(
        result(EvaluationProtocol.TARGETED, new double[] {0.778, 0.792, 0.70, 0.785, 0.820}, new double[] {0, 0.853, 0.6, 0.207, 0.737}),
        result(EvaluationProtocol.INSTANCE, new double[] {0.798, 0.764, 0.79, 0.80, 0.808}, new double[] {0, 0.462, 0.1, 0.15, 0.455})),
        Map.of("CLINC150", "`clinc.json`"));
    String md = section.markdown();
    assertTrue(md.contains("### (a) targeted"), md);
    assertTrue(md.contains("### (d) instance"), md);
    assertTrue(md.contains("| CLINC150 | overall | 30000 | 77.8 ± 1.0 | 79.2 ± 1.0 | 70.0 ± 1.0 | 78.5 ± 1.0 | **82.0 ± 1.0** |"), md);
    assertTrue(md.contains("| CLINC150 | changed rows | 1600 | 0.0 ± 1.0 | **85.3 ± 1.0** |"), md);
    assertTrue(md.contains("- (a) targeted, CLINC150, changed rows: **T_u(y|r) 85.3 ± 1.0** vs CM 73.7 ± 1.0 (intervals do not overlap)"), md);
    assertTrue(md.contains("- (d) instance, CLINC150, changed rows: **T_u(y|r) 46.2 ± 1.0** vs CM 45.5 ± 1.0 (within the intervals)"), md);
    assertTrue(md.contains("prompt-only threshold 0.50, kNN vote β=16"), md);
    assertTrue(md.contains("`clinc.json` (15000 train rows"), md);

    assertEquals(1, section.charts().size());
    assertEquals("cm-clinc150.png", section.charts().get(0).fileName());
  }
}
