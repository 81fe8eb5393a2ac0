package io.marginal.ops.eval.cm;

import io.marginal.schemas.MemoryBank;
import java.util.Map;

/** The base model's own answer, argmax P(r | x): what every user gets without personalization. */
public final class BaseModelBaseline implements PersonalizationMethod {

  @Override
  public String name() {
    return "base";
  }

  @Override
  public String answer(MemoryBank bank, float[] x, Map<String, Double> base) {
    return CmEvaluation.argmax(base);
  }
}
