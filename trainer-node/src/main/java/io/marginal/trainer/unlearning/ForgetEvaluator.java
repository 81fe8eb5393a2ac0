package io.marginal.trainer.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.scoring.Continuation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Measures an adapter before it may be published.
 * <ul>
 *   <li>Forget efficacy. The headline is the <b>evaluation-family leak rate</b>: the share of probes from
 *       the families the training never sees ({@link EvaluationProbes}: reworded, indirect, typos, other
 *       languages) whose greedy answer gives the concept away — its title, an alias, its director or a
 *       distinctive plot keyword ({@link LeakDetector}) — with a 95 % Wilson interval. Beside it, kept
 *       apart and labelled: the direct probes (the request's prompts) and the training families (the
 *       augmenter's prompts, which also drive the early stop): title mention rate and leak rate; per
 *       evaluation family, the leak rate; and the mean log-probability of the concept's tokens where the
 *       base model's answer names it (scored after the base answer's own prefix, e.g. "You should watch").</li>
 *   <li>Retain utility on the evaluation retain prompts ({@link RetainSet#bundledEvaluationPrompts}, ≥ 200,
 *       including whole intents the retain loss never saw): agreement (greedy answer identical to the base
 *       model's, with a Wilson interval, overall and on the held-out intents), accuracy (equal to one of the
 *       bundled expected answers) and the perplexity ratio of the base answers (1 = unchanged).</li>
 * </ul>
 */
public final class ForgetEvaluator {

  /**
   * The probe prompts of one concept.
   *
   * @param direct      the request's prompts
   * @param paraphrased the training families' prompts other than the direct ones (targets and early stop come from these)
   * @param evaluation  evaluation family → prompts, never trained on
   */
  public record ProbeSet(String concept, List<String> direct, List<String> paraphrased, Map<String, List<String>> evaluation) {

    public ProbeSet {
      evaluation = Collections.unmodifiableMap(new LinkedHashMap<>(evaluation));
    }

    /** Every evaluation prompt, all families together. */
    public List<String> heldOut() {
      return evaluation.values().stream().flatMap(List::stream).distinct().toList();
    }
  }

  /**
   * Forget figures of one concept. Rates are NaN where a family has no probe; log-probs are NaN where no probe's
   * base answer names the concept.
   *
   * @param directRate        title/alias mention rate on the direct probes
   * @param paraphraseRate    title/alias mention rate on the training families (what the early stop watches)
   * @param heldOutRate       title/alias mention rate on the evaluation families
   * @param trainingLeak      leak (name, director or plot) on the training families
   * @param evaluationLeak    leak on the evaluation families: the headline
   * @param familyLeak        leak per evaluation family
   */
  public record ConceptFigures(double directRate, double paraphraseRate, double heldOutRate, double directLogProb,
                               double paraphraseLogProb, double heldOutLogProb, Proportion trainingLeak, Proportion evaluationLeak,
                               Map<String, Proportion> familyLeak) {}

  /**
   * Retain figures.
   *
   * @param agreed             prompts whose answer equals the base model's, of all evaluation retain prompts
   * @param heldOutIntentAgreed the same restricted to intents the retain loss never saw
   */
  public record RetainFigures(double agreement, double accuracy, double perplexityRatio, Proportion agreed,
                              Proportion heldOutIntentAgreed) {

    /** Figures of an unchanged model on {@code n} prompts ({@code heldOut} of held-out intents). */
    public static RetainFigures unchanged(int n, int heldOut) {
      return new RetainFigures(1.0, Double.NaN, 1.0, new Proportion(n, n), new Proportion(heldOut, heldOut));
    }
  }

  private final ChatAnswers answers;
  private final Map<String, List<String>> expected = RetainSet.expectedAnswers();
  private final Map<ProbeSet, ConceptFigures> baseConcept = new ConcurrentHashMap<>();
  private final Map<List<String>, BaseScores> baseScores = new ConcurrentHashMap<>();

  /** The base model's log-probabilities of the base answers to a list of retain prompts, and their token count. */
  private record BaseScores(List<Continuation> sequences, double[] logProbs, int tokens) {}

  public ForgetEvaluator(ChatAnswers answers) {
    this.answers = answers;
  }

  /**
   * The figures of {@code probes} under {@code adapters}. The base model's figures (no adapter: a first request's
   * "before") are computed once per probe set and kept: they depend only on the probes, the model and the decode
   * length, which an evaluator never changes.
   */
  public ConceptFigures concept(ProbeSet probes, ActiveAdapters adapters) {
    if (adapters == null || adapters.isEmpty()) {
      ConceptFigures known = baseConcept.get(probes);
      if (known == null) {
        known = measureConcept(probes, ActiveAdapters.NONE);
        baseConcept.put(probes, known);
      }
      return known;
    }
    return measureConcept(probes, adapters);
  }

  ConceptFigures measureConcept(ProbeSet probes, ActiveAdapters adapters) {
    String c = probes.concept();
    LeakDetector detector = LeakDetector.of(c);
    List<String> all = new ArrayList<>(probes.direct());
    all.addAll(probes.paraphrased());
    all.addAll(probes.heldOut());
    Map<String, String> got = new HashMap<>();
    List<String> distinct = all.stream().distinct().toList();
    List<String> out = answers.answers(distinct, adapters); // one batched decode for every family
    for (int i = 0; i < distinct.size(); i++) {
      got.put(distinct.get(i), out.get(i));
    }
    Map<String, Proportion> families = new LinkedHashMap<>();
    probes.evaluation().forEach((family, prompts) -> families.put(family, count(prompts, got, detector::leaks)));
    return new ConceptFigures(count(probes.direct(), got, detector::names).rate(), count(probes.paraphrased(), got, detector::names).rate(),
        count(probes.heldOut(), got, detector::names).rate(), conceptLogProb(probes.direct(), c, adapters),
        conceptLogProb(probes.paraphrased(), c, adapters), conceptLogProb(probes.heldOut(), c, adapters),
        count(probes.paraphrased(), got, detector::leaks), count(probes.heldOut(), got, detector::leaks), families);
  }

  private static Proportion count(List<String> prompts, Map<String, String> got, Predicate<String> hit) {
    int hits = 0;
    for (String p : prompts) {
      hits += hit.test(got.get(p)) ? 1 : 0;
    }
    return new Proportion(hits, prompts.size());
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

  /**
   * Whether {@code mentionRate(prompts, concept, adapters) == 0} (false for no prompts, where the rate is NaN), decided
   * at the first answer that mentions {@code concept} ({@link ChatAnswers#anyMentions}): the training loop's early-stop
   * check, which one mention decides.
   */
  public boolean noMentions(List<String> prompts, String concept, ActiveAdapters adapters) {
    return !prompts.isEmpty() && !answers.anyMentions(prompts, concept, adapters);
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
      return new RetainFigures(Double.NaN, Double.NaN, Double.NaN, new Proportion(0, 0), new Proportion(0, 0));
    }
    int agree = 0;
    int correct = 0;
    int graded = 0;
    int heldOut = 0;
    int heldOutAgree = 0;
    List<String> base = answers.answers(prompts, ActiveAdapters.NONE);
    List<String> got = answers.answers(prompts, adapters);
    for (int i = 0; i < prompts.size(); i++) {
      String p = prompts.get(i);
      String a = got.get(i);
      boolean same = a.equals(base.get(i));
      agree += same ? 1 : 0;
      if (RetainSet.ofHeldOutIntent(p)) {
        heldOut++;
        heldOutAgree += same ? 1 : 0;
      }
      List<String> ok = expected.get(p);
      if (ok != null) {
        graded++;
        correct += ok.contains(a) ? 1 : 0;
      }
    }
    return new RetainFigures((double) agree / prompts.size(), graded == 0 ? Double.NaN : (double) correct / graded,
        perplexityRatio(prompts, adapters), new Proportion(agree, prompts.size()), new Proportion(heldOutAgree, heldOut));
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
    BaseScores base = baseScores(prompts);
    double[] adapted = answers.model().logProbs(base.sequences(), adapters);
    double diff = 0;
    for (int i = 0; i < adapted.length; i++) {
      diff += base.logProbs()[i] - adapted[i];
    }
    return Math.exp(diff / Math.max(1, base.tokens()));
  }

  /**
   * The base half of {@link #perplexityRatio}, kept per prompt list: base answers and base weights never change, and
   * the same list is scored in the same batch, so a kept value is the one a fresh pass would give.
   */
  private BaseScores baseScores(List<String> prompts) {
    List<String> key = List.copyOf(prompts);
    BaseScores known = baseScores.get(key);
    if (known != null) {
      return known;
    }
    LanguageModel model = answers.model();
    List<Continuation> seqs = new ArrayList<>();
    int tokens = 0;
    for (String p : prompts) {
      Continuation c = RetainSet.example(model, p, answers.base(p), 1).sequence();
      seqs.add(c);
      tokens += c.continuation().length;
    }
    BaseScores scores = new BaseScores(List.copyOf(seqs), model.logProbs(seqs, ActiveAdapters.NONE), tokens);
    baseScores.put(key, scores);
    return scores;
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
