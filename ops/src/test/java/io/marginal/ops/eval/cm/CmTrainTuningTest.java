package io.marginal.ops.eval.cm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The estimator search on train only: stays on its grid, is deterministic, and the CM it picks learns the remappings. */
class CmTrainTuningTest {

  @Test
  void picksFromTheGridDeterministicallyAndTheResultLearnsTheRemappings() {
    EncodedDataset data = new EncodedDataset(SyntheticIntents.dataset());
    EvalSettings settings = new EvalSettings(4, 2, 10, 20, 3, 2, 10, 0.5, 0.0, 1.0, Double.NaN, 1024);
    EvalSettings picked = CmEvaluation.tuneEstimatorOnTrain(data, settings);
    assertEquals(picked, CmEvaluation.tuneEstimatorOnTrain(data, settings), "deterministic");
    assertTrue(Arrays.stream(CmEvaluation.LAMBDA_GRID).anyMatch(v -> v == picked.lambda()), picked.toString());
    assertTrue(Arrays.stream(CmEvaluation.TAU_GRID).anyMatch(v -> v == picked.tau()), picked.toString());
    assertTrue(Arrays.stream(CmEvaluation.P_GRID).anyMatch(v -> v == picked.p()), picked.toString());
    assertEquals(settings.users(), picked.users());
    assertEquals(settings.k(), picked.k());

    ProtocolResult result = CmEvaluation.evaluate(data, EvaluationProtocol.TARGETED, picked, CmEvaluation.standardMethods(picked, 0.5, 4));
    assertTrue(result.accuracy(RowGroup.CHANGED, "base").mean() < 0.1, "the base model answers the original intents: " + result);
    assertTrue(result.accuracy(RowGroup.CHANGED, "CM").mean() > 0.8, "CM follows the users' remappings: " + result);
    assertTrue(result.accuracy(RowGroup.UNAFFECTED, "CM").mean() >= result.accuracy(RowGroup.UNAFFECTED, "base").mean() - 0.05,
        "without harming the rest: " + result);
  }
}
