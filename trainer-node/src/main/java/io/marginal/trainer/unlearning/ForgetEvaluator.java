package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.scoring.Continuation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Measures an adapter before it may be published.
 * <ul>
 *   <li>Forget efficacy, per probe family (direct = the request's prompts, paraphrased = the
 *       augmenter's training paraphrases, held-out = templates never trained on): the mention rate
 *       (fraction of greedy answers that name the concept) and the mean log-probability of the
 *       concept's tokens where the base model's answer names it (scored after the base answer's
 *       own prefix, e.g. "You should watch").</li>
 *   <li>Retain utility on the held-out half of the retain prompts: agreement (fraction of greedy
 *       answers identical to the base model's), accuracy (fraction equal to one of the bundled
 *       expected answers, for prompts that have one) and the perplexity ratio of the base answers
 *       (exp of the mean per-token NLL difference; 1 = unchanged).</li>
 * </ul>
 */
public final class ForgetEvaluator {

  /** The probe prompts of one concept. */
  public record ProbeSet(String concept, List<String> direct, List<String> paraphrased, List<String> heldOut) {}

  /** Forget figures of one concept. NaN where a family has no probe whose base answer names the concept. */
  public record ConceptFigures(double directRate, double paraphraseRate, double heldOutRate, double directLogProb,
                               double paraphraseLogProb, double heldOutLogProb) {}

  /** Retain figures. */
  public record RetainFigures(double agreement, double accuracy, double perplexityRatio) {}

  private final ChatAnswers answers;
  private final Map<String, List<String>> expected = RetainSet.expectedAnswers();

  public ForgetEvaluator(ChatAnswers answers) {
    this.answers = answers;
  }

  public ConceptFigures concept(ProbeSet probes, ActiveAdapters adapters) {
    String c = probes.concept();
    return new ConceptFigures(mentionRate(probes.direct(), c, adapters), mentionRate(probes.paraphrased(), c, adapters),
        mentionRate(probes.heldOut(), c, adapters), conceptLogProb(probes.direct(), c, adapters),
        conceptLogProb(probes.paraphrased(), c, adapters), conceptLogProb(probes.heldOut(), c, adapters));
  }

  /** Fraction of {@code prompts} whose greedy answer names {@code concept}. */
  public double mentionRate(List<String> prompts, String concept, ActiveAdapters adapters) {
    if (prompts.isEmpty()) {
      return Double.NaN;
    }
    int hits = 0;
    for (String a : answers.answers(prompts, adapters)) {
      hits += ParaphraseAugmenter.mentions(a, concept) ? 1 : 0;
    }
    return (double) hits / prompts.size();
  }

  /** Mean summed log-probability of the concept's tokens where the base answer names it. */
  public double conceptLogProb(List<String> prompts, String concept, ActiveAdapters adapters) {
    LanguageModel model = answers.model();
    List<Continuation> targets = new ArrayList<>();
    answers.answers(prompts, ActiveAdapters.NONE); // base answers batched into the cache
    for (String p : prompts) {
      ForgetTarget.of(model, p, answers.base(p), concept, 1, ".", false).ifPresent(t -> targets.add(t.sequence()));
    }
    if (targets.isEmpty()) {
      return Double.NaN;
    }
    double sum = 0;
    for (double v : model.logProbs(targets, adapters)) {
      sum += v;
    }
    return sum / targets.size();
  }

  public RetainFigures retain(List<String> prompts, ActiveAdapters adapters) {
    if (prompts.isEmpty()) {
      return new RetainFigures(Double.NaN, Double.NaN, Double.NaN);
    }
    int agree = 0;
    int correct = 0;
    int graded = 0;
    List<String> base = answers.answers(prompts, ActiveAdapters.NONE);
    List<String> got = answers.answers(prompts, adapters);
    for (int i = 0; i < prompts.size(); i++) {
      String p = prompts.get(i);
      String a = got.get(i);
      agree += a.equals(base.get(i)) ? 1 : 0;
      List<String> ok = expected.get(p);
      if (ok != null) {
        graded++;
        correct += ok.contains(a) ? 1 : 0;
      }
    }
    return new RetainFigures((double) agree / prompts.size(), graded == 0 ? Double.NaN : (double) correct / graded,
        perplexityRatio(prompts, adapters));
  }

  /** Retain prompts whose greedy answer differs from the base model's: prompt → answer. */
  public Map<String, String> retainMisses(List<String> prompts, ActiveAdapters adapters) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    List<String> base = answers.answers(prompts, ActiveAdapters.NONE);
    List<String> got = answers.answers(prompts, adapters);
    for (int i = 0; i < prompts.size(); i++) {
      if (!got.get(i).equals(base.get(i))) {
        out.put(prompts.get(i), got.get(i));
      }
    }
    return out;
  }

  double perplexityRatio(List<String> prompts, ActiveAdapters adapters) {
    if (adapters == null || adapters.isEmpty()) {
      return 1.0;
    }
    LanguageModel model = answers.model();
    List<Continuation> seqs = new ArrayList<>();
    int tokens = 0;
    for (String p : prompts) {
      Continuation c = RetainSet.example(model, p, answers.base(p), 1).sequence();
      seqs.add(c);
      tokens += c.continuation().length;
    }
    double[] base = model.logProbs(seqs, ActiveAdapters.NONE);
    double[] adapted = model.logProbs(seqs, adapters);
    double diff = 0;
    for (int i = 0; i < base.length; i++) {
      diff += base[i] - adapted[i];
    }
    return Math.exp(diff / Math.max(1, tokens));
  }

  /** Highest mention rate among earlier concepts, each on its probes whose base answer names it. */
  public Optional<Double> worstPreviousMentionRate(List<ProbeSet> previous, ActiveAdapters adapters, int maxProbesEach) {
    double worst = -1;
    for (ProbeSet set : previous) {
      List<String> eliciting = new ArrayList<>();
      for (String p : concat(set.direct(), set.paraphrased())) {
        if (eliciting.size() < maxProbesEach && ParaphraseAugmenter.mentions(answers.base(p), set.concept())) {
          eliciting.add(p);
        }
      }
      if (!eliciting.isEmpty()) {
        worst = Math.max(worst, mentionRate(eliciting, set.concept(), adapters));
      }
    }
    return worst < 0 ? Optional.empty() : Optional.of(worst);
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
