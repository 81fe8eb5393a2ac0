package io.marginal.model.demo;

/**
 * How the demo model is pre-trained. Part of the cache key: change any value and the model is
 * rebuilt in a new directory.
 */
public record DemoTrainingPlan(int steps, int batchDialogues, float learningRate, int warmupSteps,
    float userTokenWeight, long seed) {
  public static final DemoTrainingPlan DEFAULT = new DemoTrainingPlan(400, 32, 3e-3f, 20, 0.3f, 20250101L);

  public String describe() {
    return "steps=" + steps + ",batch=" + batchDialogues + ",lr=" + learningRate + ",warmup=" + warmupSteps
        + ",userWeight=" + userTokenWeight + ",seed=" + seed;
  }
}
