package io.marginal.ops.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.streams.eval.CmEvaluation.Accuracy;
import io.marginal.streams.eval.CmEvaluation.EvalSettings;
import io.marginal.streams.eval.CmEvaluation.Result;
import io.marginal.streams.eval.CmEvaluation.Scores;
import java.util.List;
import org.junit.jupiter.api.Test;

class CmPersonalizationSectionTest {

  private static Scores scores(long overall, long remapped) {
    return new Scores(new Accuracy(overall, 1000), new Accuracy(remapped, 100), new Accuracy(overall - remapped, 900));
  }

  private static final Result CLINC = new Result("CLINC150", EvalSettings.defaults(), 15000, 3000, 180, 0.822, 0.5,
      scores(700, 0), scores(720, 30), scores(800, 70));

  @Test
  void tablesCarryTheThreeMethodsPerDatasetAndBoldTheBest() {
    CmPersonalizationSection section = new CmPersonalizationSection(List.of(CLINC), List.of("clinc.json"));
    String md = section.markdown();
    assertTrue(md.contains("| overall | 1000 | 70.0% | 72.0% | **80.0%** |"), md);
    assertTrue(md.contains("| remapped intents | 100 | 0.0% | 30.0% | **70.0%** |"), md);
    assertTrue(md.contains("| unaffected intents | 900 | 77.8% | 76.7% | **81.1%** |"), md);
    assertTrue(md.contains("| CLINC150 | 10 × 8 | 70.0% / 72.0% / **80.0%** |"), md);
    assertTrue(md.contains("Prompt-only threshold (tuned on train): 0.50"), md);
    assertTrue(md.contains("k=10, λ=0.5, τ=0, p=1"), md);

    assertEquals(1, section.charts().size());
    assertEquals("cm-clinc150.png", section.charts().get(0).fileName());
  }
}
