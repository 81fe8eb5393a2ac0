package io.marginal.trainer.unlearning;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.marginal.model.scoring.Continuation;

/**
 * Supervised fine-tuning toward an alternative answer (a polite refusal, or another title) on the
 * forget prompts: {@code mean_i w_i · −logπθ(alt|x_i)/|alt|}. Unlike ascent it says what to answer
 * instead, so it cannot push the model into gibberish; like the AG-Masked-LoRA reference's SFT
 * toward non-target answers.
 */
public final class RefusalLoss implements ForgetObjective {

  private final String answer;

  public RefusalLoss(String answer) {
    if (answer == null || answer.isBlank()) {
      throw new IllegalArgumentException("the refusal objective needs an alternative answer");
    }
    this.answer = answer;
  }

  public String answer() {
    return answer;
  }

  @Override
  public Continuation sequence(ForgetTarget target) {
    return target.alternative();
  }

  @Override
  public NDArray loss(NDArray logProbs, float[] lengths, float[] weights, float[] reference) {
    NDManager m = logProbs.getManager();
    return logProbs.div(m.create(lengths)).neg().mul(m.create(weights)).mean();
  }
}
