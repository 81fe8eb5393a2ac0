package io.marginal.trainer.unlearning;

import io.marginal.config.Settings;
import io.marginal.model.weights.Projection;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Hyper-parameters of an unlearning job and its publication gate. Defaults are tuned on the tiny
 * demo model (see README, "Measured"); every field can be overridden from the environment
 * ({@code MARGINAL_UNLEARN_*}, listed on each parameter).
 *
 * @param objective           default objective when a request names none ({@code _OBJECTIVE}: GRAD_DIFF, NPO, REFUSAL)
 * @param npoBeta             NPO's β ({@code _NPO_BETA})
 * @param maxSteps            most optimiser steps per job ({@code _STEPS})
 * @param learningRate        Adam learning rate ({@code _LR})
 * @param rank                LoRA rank ({@code _RANK})
 * @param alpha               LoRA alpha ({@code _ALPHA})
 * @param dropout             LoRA dropout ({@code _DROPOUT})
 * @param targets             projections that get LoRA and masks ({@code _TARGETS}, e.g. {@code o_proj,gate_proj,up_proj,down_proj})
 * @param maskTopFraction     fraction of each module's output neurons kept by the mask; 1 = unmasked ({@code _MASK_TOP})
 * @param maskThreshold       if &gt; 0, keep neurons whose forget/retain ratio is at least this instead of top-k ({@code _MASK_THRESHOLD})
 * @param retainWeight        weight λ of the retain loss ({@code _RETAIN_WEIGHT})
 * @param ascentFloor         GradDiff stops pushing a forget target once its mean per-token log-prob is below this ({@code _ASCENT_FLOOR})
 * @param refusalAnswer       REFUSAL objective's target answer ({@code _REFUSAL_ANSWER})
 * @param u2aTemperature      sharpness κ of the U2A alignment weighting; 0 disables it ({@code _U2A_KAPPA})
 * @param evalEvery           check forgetting every this many steps and stop early once it holds ({@code _EVAL_EVERY})
 * @param retainBatch         retain examples per step ({@code _RETAIN_BATCH})
 * @param maxNewTokens        greedy tokens generated per probe ({@code _PROBE_TOKENS})
 * @param gateMaxParaphraseMentionRate  gate: highest leak rate of the concept on the evaluation probe families ({@code _GATE_MAX_MENTION})
 * @param gateMaxRetainDrop   gate: largest drop of retain accuracy against the base model, in [0, 1] ({@code _GATE_MAX_RETAIN_DROP})
 * @param gateMaxPreviousMentionRate gate: highest mention rate of concepts forgotten by earlier versions ({@code _GATE_MAX_PREVIOUS_MENTION})
 * @param seed                seed for LoRA init, batches and dropout order ({@code _SEED})
 * @param forgetBatch         forget targets sampled per step ({@code _FORGET_BATCH}; 32)
 */
public record UnlearningSettings(String objective, double npoBeta, int maxSteps, double learningRate, int rank, double alpha,
                                 double dropout, Set<Projection> targets, double maskTopFraction, double maskThreshold,
                                 double retainWeight, double ascentFloor, String refusalAnswer, double u2aTemperature,
                                 int evalEvery, int retainBatch, int maxNewTokens, double gateMaxParaphraseMentionRate,
                                 double gateMaxRetainDrop, double gateMaxPreviousMentionRate, long seed,
                                 int forgetBatch) {

  public UnlearningSettings {
    if (!Set.of("GRAD_DIFF", "NPO", "REFUSAL").contains(objective)) {
      throw new IllegalArgumentException("objective must be GRAD_DIFF, NPO or REFUSAL, got " + objective);
    }
    if (maskTopFraction <= 0 || maskTopFraction > 1) {
      throw new IllegalArgumentException("mask top fraction must be in (0, 1], got " + maskTopFraction);
    }
    if (forgetBatch <= 0) {
      throw new IllegalArgumentException("forget batch must be positive, got " + forgetBatch);
    }
    if (maxSteps <= 0 || evalEvery <= 0) {
      throw new IllegalArgumentException("steps and evalEvery must be positive");
    }
    targets = Set.copyOf(EnumSet.copyOf(targets));
  }

  public static UnlearningSettings defaults() {
    return new UnlearningSettings("GRAD_DIFF", 0.5, 120, 1e-3, 8, 16, 0.0,
        EnumSet.of(Projection.O, Projection.GATE, Projection.UP, Projection.DOWN), 0.25, 0, 1.0, -4.0,
        "I am sorry, I cannot help with that.", 4.0, 5, 24, 24, 0.10, 0.08, 0.20, 7, 32);
  }

  /** Defaults overridden by {@code MARGINAL_UNLEARN_*} keys of {@code env}. */
  public static UnlearningSettings fromEnvironment(Map<String, String> env) {
    return from(Settings.of(env));
  }

  /** Defaults overridden by {@code MARGINAL_UNLEARN_*} keys. */
  public static UnlearningSettings from(Settings env) {
    UnlearningSettings d = defaults();
    String p = "MARGINAL_UNLEARN_";
    return new UnlearningSettings(
        env.getString(p + "OBJECTIVE", d.objective).toUpperCase(Locale.ROOT),
        env.getDouble(p + "NPO_BETA", d.npoBeta), env.getInt(p + "STEPS", d.maxSteps), env.getDouble(p + "LR", d.learningRate),
        env.getInt(p + "RANK", d.rank), env.getDouble(p + "ALPHA", d.alpha), env.getDouble(p + "DROPOUT", d.dropout),
        env.find(p + "TARGETS").map(UnlearningSettings::parseTargets).orElse(d.targets),
        env.getDouble(p + "MASK_TOP", d.maskTopFraction), env.getDouble(p + "MASK_THRESHOLD", d.maskThreshold),
        env.getDouble(p + "RETAIN_WEIGHT", d.retainWeight), env.getDouble(p + "ASCENT_FLOOR", d.ascentFloor),
        env.getString(p + "REFUSAL_ANSWER", d.refusalAnswer), env.getDouble(p + "U2A_KAPPA", d.u2aTemperature),
        env.getInt(p + "EVAL_EVERY", d.evalEvery), env.getInt(p + "RETAIN_BATCH", d.retainBatch),
        env.getInt(p + "PROBE_TOKENS", d.maxNewTokens), env.getDouble(p + "GATE_MAX_MENTION", d.gateMaxParaphraseMentionRate),
        env.getDouble(p + "GATE_MAX_RETAIN_DROP", d.gateMaxRetainDrop),
        env.getDouble(p + "GATE_MAX_PREVIOUS_MENTION", d.gateMaxPreviousMentionRate), env.getLong(p + "SEED", d.seed),
        env.getInt(p + "FORGET_BATCH", d.forgetBatch));
  }

  static Set<Projection> parseTargets(String csv) {
    return Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty()).map(Projection::fromName)
        .collect(Collectors.toCollection(() -> EnumSet.noneOf(Projection.class)));
  }

  public boolean masked() {
    return maskTopFraction < 1 || maskThreshold > 0;
  }

  public UnlearningSettings withObjective(String value) {
    return new UnlearningSettings(value, npoBeta, maxSteps, learningRate, rank, alpha, dropout, targets, maskTopFraction,
        maskThreshold, retainWeight, ascentFloor, refusalAnswer, u2aTemperature, evalEvery, retainBatch, maxNewTokens,
        gateMaxParaphraseMentionRate, gateMaxRetainDrop, gateMaxPreviousMentionRate, seed, forgetBatch);
  }

  /** The same settings with another mask fraction (1 = unmasked LoRA). */
  public UnlearningSettings withMaskTopFraction(double value) {
    return new UnlearningSettings(objective, npoBeta, maxSteps, learningRate, rank, alpha, dropout, targets, value, 0,
        retainWeight, ascentFloor, refusalAnswer, u2aTemperature, evalEvery, retainBatch, maxNewTokens,
        gateMaxParaphraseMentionRate, gateMaxRetainDrop, gateMaxPreviousMentionRate, seed, forgetBatch);
  }

  public UnlearningSettings withSteps(int steps, int every) {
    return new UnlearningSettings(objective, npoBeta, steps, learningRate, rank, alpha, dropout, targets, maskTopFraction,
        maskThreshold, retainWeight, ascentFloor, refusalAnswer, u2aTemperature, every, retainBatch, maxNewTokens,
        gateMaxParaphraseMentionRate, gateMaxRetainDrop, gateMaxPreviousMentionRate, seed, forgetBatch);
  }

  public UnlearningSettings withU2aTemperature(double kappa) {
    return new UnlearningSettings(objective, npoBeta, maxSteps, learningRate, rank, alpha, dropout, targets, maskTopFraction,
        maskThreshold, retainWeight, ascentFloor, refusalAnswer, kappa, evalEvery, retainBatch, maxNewTokens,
        gateMaxParaphraseMentionRate, gateMaxRetainDrop, gateMaxPreviousMentionRate, seed, forgetBatch);
  }

  public UnlearningSettings withLearningRate(double lr) {
    return new UnlearningSettings(objective, npoBeta, maxSteps, lr, rank, alpha, dropout, targets, maskTopFraction,
        maskThreshold, retainWeight, ascentFloor, refusalAnswer, u2aTemperature, evalEvery, retainBatch, maxNewTokens,
        gateMaxParaphraseMentionRate, gateMaxRetainDrop, gateMaxPreviousMentionRate, seed, forgetBatch);
  }

  public UnlearningSettings withForgetBatch(int batch) {
    return new UnlearningSettings(objective, npoBeta, maxSteps, learningRate, rank, alpha, dropout, targets, maskTopFraction,
        maskThreshold, retainWeight, ascentFloor, refusalAnswer, u2aTemperature, evalEvery, retainBatch, maxNewTokens,
        gateMaxParaphraseMentionRate, gateMaxRetainDrop, gateMaxPreviousMentionRate, seed, batch);
  }

  /** The same settings with another LoRA shape: rank, alpha and target projections. */
  public UnlearningSettings withLora(int r, double a, Set<Projection> projections) {
    return new UnlearningSettings(objective, npoBeta, maxSteps, learningRate, r, a, dropout, projections, maskTopFraction,
        maskThreshold, retainWeight, ascentFloor, refusalAnswer, u2aTemperature, evalEvery, retainBatch, maxNewTokens,
        gateMaxParaphraseMentionRate, gateMaxRetainDrop, gateMaxPreviousMentionRate, seed, forgetBatch);
  }
}
