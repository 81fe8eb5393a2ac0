package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PublicationGateTest {

  private final PublicationGate gate = new PublicationGate(0.10, 0.05, 0.20);

  @Test
  void passesWhenForgottenAndUtilityKept() {
    assertEquals(Optional.empty(), gate.refusal(Map.of(Metrics.EVAL_LEAK, 0.05, Metrics.RETAIN_AGREEMENT, 0.97)));
  }

  @Test
  void failsWithEveryFigureThatMissed() {
    String reason = gate.refusal(Map.of(Metrics.EVAL_LEAK, 0.4, Metrics.RETAIN_AGREEMENT, 0.90,
        Metrics.PREVIOUS_MENTION, 0.5)).orElseThrow();
    assertTrue(reason.contains("40% of the evaluation probes (gate 10%)"), reason);
    assertTrue(reason.contains("dropped to 90.0%"), reason);
    assertTrue(reason.contains("earlier version came back on 50%"), reason);
  }

  @Test
  void theTrainingFamiliesFigureCannotPassTheGate() {
    // the early stop drives the training-family mention to 0 by construction; only the evaluation families count
    String reason = gate.refusal(Map.of(Metrics.PARAPHRASE_MENTION, 0.0, Metrics.EVAL_LEAK, 0.5, Metrics.RETAIN_AGREEMENT, 1.0))
        .orElseThrow();
    assertTrue(reason.contains("50% of the evaluation probes"), reason);
  }

  @Test
  void fallsBackToDirectProbesWithoutEvaluationProbes() {
    assertTrue(gate.refusal(Map.of(Metrics.DIRECT_MENTION, 1.0, Metrics.RETAIN_AGREEMENT, 1.0)).isPresent());
    assertTrue(gate.refusal(Map.of(Metrics.DIRECT_MENTION, 0.0, Metrics.RETAIN_AGREEMENT, 0.95)).isEmpty(), "exactly at the limit passes");
  }
}
