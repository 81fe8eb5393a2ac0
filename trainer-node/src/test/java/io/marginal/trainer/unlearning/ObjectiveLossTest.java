package io.marginal.trainer.unlearning;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.demo.DemoModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ObjectiveLossTest {

  private static NDManager manager;

  @BeforeAll
  static void engine() {
    DemoModel.defaultEngineSettings();
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  @Test
  void gradDiffIsTheWeightedMeanPerTokenLogProbClampedAtTheFloor() {
    NDArray lp = manager.create(new float[] {-2f, -30f});
    // per token: -1 and -10 → clamped to max(-10, -4) = -4; weights 1 and 0.5 → mean(-1, -2) = -1.5
    float v = new GradDiffLoss(-4).loss(lp, new float[] {2, 3}, new float[] {1, 0.5f}, null).getFloat();
    assertEquals(-1.5, v, 1e-6);
  }

  @Test
  void npoMatchesItsFormula() {
    double beta = 0.5;
    // −(2/β)·log σ(−β·(logπθ − logπref)) for Δ = -1 and Δ = 2
    // σ(−βΔ) = 1 / (1 + e^{βΔ})
    double expected = (-(2 / beta) * Math.log(1 / (1 + Math.exp(beta * -1))) - (2 / beta) * Math.log(1 / (1 + Math.exp(beta * 2)))) / 2;
    NDArray lp = manager.create(new float[] {-3f, 0f});
    float v = new NpoLoss(beta).loss(lp, new float[] {1, 1}, new float[] {1, 1}, new float[] {-2f, -2f}).getFloat();
    assertEquals(expected, v, 1e-5);
    assertEquals(expected, (NpoLoss.value(-3, -2, beta) + NpoLoss.value(0, -2, beta)) / 2, 1e-9);
    // at Δ = 0 the loss is (2/β)·log 2
    assertEquals(2 / beta * Math.log(2), NpoLoss.value(-1, -1, beta), 1e-12);
    // stable for a large Δ: ≈ 2Δ
    float big = new NpoLoss(beta).loss(manager.create(new float[] {400f}), new float[] {1}, new float[] {1}, new float[] {0f}).getFloat();
    assertEquals(800.0, big, 1e-3);
  }

  @Test
  void refusalIsTheWeightedMeanPerTokenNllOfTheAlternative() {
    NDArray lp = manager.create(new float[] {-4f, -1f});
    float v = new RefusalLoss("I am sorry.").loss(lp, new float[] {4, 1}, new float[] {2, 1}, null).getFloat();
    assertEquals((2 * 1 + 1 * 1) / 2.0, v, 1e-6);
  }
}
