package io.marginal.ops.eval.cm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.personalization.cm.DiscrepancyEstimator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The evaluation can fail: an estimator that ignores the bank scores worse than the real one by more than the intervals. */
class BrokenEstimatorIsCaughtTest {

  @Test
  void anEstimatorIgnoringTheBankIsBelowTheRealOneBeyondBothIntervals() {
    EncodedDataset data = new EncodedDataset(SyntheticIntents.dataset());
    EvalSettings settings = new EvalSettings(3, 2, 10, 20, 1, 5, 10, 0.5, 0.0, 1.0, Double.NaN, 1024);
    DiscrepancyEstimator ignoresTheBank = (bank, x, base) -> base;
    List<PersonalizationMethod> methods = List.of(new CmMethod("CM", settings.estimator()), new CmMethod("broken CM", ignoresTheBank));
    for (EvaluationProtocol protocol : List.of(EvaluationProtocol.TARGETED, EvaluationProtocol.INSTANCE)) {
      ProtocolResult result = CmEvaluation.evaluate(data, protocol, settings, methods);
      for (RowGroup group : List.of(RowGroup.OVERALL, RowGroup.CHANGED)) {
        ConfidenceInterval real = result.accuracy(group, "CM");
        ConfidenceInterval broken = result.accuracy(group, "broken CM");
        assertTrue(real.n() == 5 && real.clearlyAbove(broken), protocol + " " + group + ": real " + real + " vs broken " + broken);
      }
    }
  }
}
