package io.marginal.ops.eval.cm;

import io.marginal.schemas.MemoryBank;
import java.util.Map;

/**
 * One way to answer a user's instance given that user's memory bank: the base model, the baselines and CM all
 * implement it, so every evaluation table compares them on the same users, banks and rows.
 */
public interface PersonalizationMethod {

  /** The column name in the tables. */
  String name();

  /**
   * @param bank the user's memory bank (never null in the evaluation; may be empty)
   * @param x    the instance's L2-normalised embedding, in the bank's embedding space
   * @param base the base model's candidate distribution P(r | x)
   * @return the label this method answers
   */
  String answer(MemoryBank bank, float[] x, Map<String, Double> base);
}
