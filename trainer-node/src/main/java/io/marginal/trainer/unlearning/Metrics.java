package io.marginal.trainer.unlearning;

/** Names of the figures a job publishes with its adapter (manifest metrics and the adapters event). */
public final class Metrics {
  public static final String DIRECT_MENTION = "forget_direct_mention_rate";
  /** Title/alias mention rate on the training families (the early stop's probes): a training signal, not the headline. */
  public static final String PARAPHRASE_MENTION = "forget_paraphrase_mention_rate";
  /** Title/alias mention rate on the evaluation families (never trained on). */
  public static final String HELD_OUT_MENTION = "forget_heldout_mention_rate";
  /** Headline: share of evaluation-family probes whose answer leaks the concept (name, alias, director, plot keyword). */
  public static final String EVAL_LEAK = "forget_eval_leak_rate";
  public static final String EVAL_LEAK_LOW = "forget_eval_leak_rate_ci_low";
  public static final String EVAL_LEAK_HIGH = "forget_eval_leak_rate_ci_high";
  public static final String EVAL_PROBES = "forget_eval_probes";
  /** Leak rate (not only the title) on the training families. */
  public static final String TRAINING_LEAK = "forget_training_leak_rate";
  public static final String DIRECT_LOGPROB = "forget_direct_concept_logprob";
  public static final String PARAPHRASE_LOGPROB = "forget_paraphrase_concept_logprob";
  public static final String HELD_OUT_LOGPROB = "forget_heldout_concept_logprob";
  public static final String BEFORE = "_before";
  public static final String RETAIN_AGREEMENT = "retain_agreement";
  public static final String RETAIN_ACCURACY = "retain_accuracy";
  public static final String RETAIN_ACCURACY_BASE = "retain_accuracy_base";
  public static final String RETAIN_PERPLEXITY_RATIO = "retain_perplexity_ratio";
  public static final String RETAIN_AGREEMENT_LOW = "retain_agreement_ci_low";
  public static final String RETAIN_AGREEMENT_HIGH = "retain_agreement_ci_high";
  public static final String RETAIN_PROMPTS = "retain_eval_prompts";
  /** Agreement on intents the retain loss never saw. */
  public static final String RETAIN_HELD_OUT_INTENT_AGREEMENT = "retain_heldout_intent_agreement";
  public static final String RETAIN_HELD_OUT_INTENT_PROMPTS = "retain_heldout_intent_prompts";
  public static final String PREVIOUS_MENTION = "previous_concepts_max_mention_rate";
  public static final String STEPS = "train_steps";
  public static final String FINAL_LOSS = "train_final_loss";
  public static final String NON_FINITE_RETRIES = "train_nonfinite_retries";
  public static final String SECONDS = "train_seconds";
  public static final String MASKED_FRACTION = "mask_kept_fraction";
  public static final String FORGET_TARGETS = "forget_targets";
  public static final String CONSTRAINT_TARGETS = "constraint_targets";
  public static final String RETAIN_EXAMPLES = "retain_examples";
  public static final String U2A_MEAN_COSINE = "u2a_mean_cosine";
  public static final String EXACT_RETRAIN = "exact_retrain";

  /** Leak rate on one evaluation family ({@link EvaluationProbes#FAMILIES}). */
  public static String familyLeak(String family) {
    return "forget_eval_" + family.replace('-', '_') + "_leak_rate";
  }

  private Metrics() {
  }
}
