package io.marginal.trainer.unlearning;

import ai.djl.ndarray.NDArray;
import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.adapters.PeftAdapterWriter;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.AdapterMetadata;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.model.lora.LoraConfig;
import io.marginal.model.lora.LoraTarget;
import io.marginal.model.scoring.Continuation;
import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.schemas.topics.AdapterScope;
import io.marginal.trainer.job.PhaseTimer;
import io.marginal.trainer.job.ProgressListener;
import io.marginal.trainer.job.UnlearningJob;
import io.marginal.trainer.job.UnlearningOutcome;
import io.marginal.trainer.store.StoredAdapter;
import io.marginal.trainer.unlearning.ForgetEvaluator.ConceptFigures;
import io.marginal.trainer.unlearning.ForgetEvaluator.ProbeSet;
import io.marginal.trainer.unlearning.ForgetEvaluator.RetainFigures;
import io.marginal.trainer.unlearning.NeuronMaskBuilder.ModuleMask;
import io.marginal.trainer.unlearning.RetainSet.RetainExample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's job: one unlearning request → one masked LoRA adapter version, evaluated and gated.
 *
 * <ol>
 *   <li>Previous version: its weights, masks and {@link UnlearningHistory} (continual requests).
 *       For a per-user scope whose adapter the request's lineage names (it was trained on data
 *       now deleted), the previous weights are discarded and the scope is retrained from the base
 *       without that data: exact forgetting; the node then removes the earlier versions.</li>
 *   <li>Forget targets: the request's examples plus template paraphrases whose answer names the
 *       concept; earlier requests' concepts as constraints. Retain set: bundled prompts + every
 *       covered request's retain examples, answered as the base model answers.</li>
 *   <li>Masks from saliency/Fisher on the forget loss contrasted with the retain loss
 *       ({@link NeuronMaskBuilder}); a continuing version keeps the union with its previous masks.</li>
 *   <li>U2A weights, then training with the request's objective and early stopping.</li>
 *   <li>Evaluation before/after, the publication gate, and the adapter written in PEFT layout with
 *       its manifest (masks, lineage, metrics) and history.</li>
 * </ol>
 * Not thread-safe: the node runs one job at a time (and autograd is process-wide anyway).
 */
public final class MaskedLoraUnlearningJob implements UnlearningJob {

  private static final Logger LOG = LoggerFactory.getLogger(MaskedLoraUnlearningJob.class);
  private static final int MAX_CONSTRAINTS_PER_CONCEPT = 12;
  private static final int MAX_PROBE_SEQUENCES = 48;

  private final LanguageModel model;
  private final String baseModelName;
  private final UnlearningSettings settings;
  private final ChatAnswers answers;
  private final ForgetEvaluator evaluator;
  private final ParaphraseAugmenter augmenter = new ParaphraseAugmenter();

  public MaskedLoraUnlearningJob(LanguageModel model, String baseModelName, UnlearningSettings settings) {
    this.model = model;
    this.baseModelName = baseModelName;
    this.settings = settings;
    this.answers = new ChatAnswers(model, settings.maxNewTokens());
    this.evaluator = new ForgetEvaluator(answers);
  }

  public UnlearningSettings settings() {
    return settings;
  }

  public ChatAnswers answers() {
    return answers;
  }

  public ForgetEvaluator evaluator() {
    return evaluator;
  }

  /** Decodes the base model's answers to the bundled retain prompts into the cache: every request's retain set needs them. */
  @Override
  public void warmUp() {
    RetainSet.build(answers, Set.of(), List.of());
  }

  @Override
  public UnlearningOutcome run(UnlearningRequest request, Optional<StoredAdapter> previous, Path workDir, ProgressListener progress) {
    int version = previous.map(p -> p.version() + 1).orElse(1);
    return run(request, previous.map(p -> Path.of(p.uri())), version, workDir, progress).outcome();
  }

  /**
   * What a run produced: the outcome for the node, the masks for reports, and seconds per phase (the
   * phases {@link ProgressListener#phase} announced, plus the training loop's early-stop checks).
   */
  public record Report(UnlearningOutcome outcome, Map<LoraTarget, ModuleMask> masks, boolean exactRetrain,
                       Map<String, Double> phaseSeconds) {
    public Map<String, Double> metrics() {
      return outcome.metrics();
    }
  }

  /** Runs one request against an optional previous version directory; writes version {@code version} into {@code workDir}. */
  public Report run(UnlearningRequest request, Optional<Path> previousDir, int version, Path workDir, ProgressListener listener) {
    long started = System.nanoTime();
    PhaseTimer progress = new PhaseTimer(listener);
    answers.forgetAdapterAnswers();
    String objectiveName = request.getObjective() != null ? request.getObjective() : settings.objective();
    ForgetObjective objective = ForgetObjective.named(objectiveName, settings);
    AdapterScope scope = AdapterScope.parse(request.getScope());
    String adapterId = scope.adapterId();

    progress.phase("loading previous version");
    UnlearningHistory history = UnlearningHistory.EMPTY;
    LoraAdapter previousAdapter = null;
    if (previousDir.isPresent()) {
      history = UnlearningHistory.read(previousDir.get());
      previousAdapter = PeftAdapterReader.read(previousDir.get(), model.config(), model.manager());
    }
    boolean exact = scope.kind() == AdapterScope.Kind.USER && previousAdapter != null
        && namesAdapter(request.getLineage(), adapterId);
    if (exact) {
      LOG.info("request {}: {} was trained on deleted data; retraining it from the base without that data", request.getRequestId(),
          adapterId);
      history = history.without(request.getLineage(), request.getForgetExamples().stream().map(Example::getPrompt).toList());
      previousAdapter.close();
      previousAdapter = null;
    }
    UnlearningHistory next = history.plus(UnlearningHistory.Entry.of(request, objectiveName));
    ActiveAdapters before = previousAdapter == null ? ActiveAdapters.NONE : ActiveAdapters.of(previousAdapter);
    try {
      return train(request, objective, objectiveName, adapterId, version, previousAdapter, before, history, next, exact, workDir,
          progress, started);
    } finally {
      if (previousAdapter != null) {
        previousAdapter.close();
      }
    }
  }

  private Report train(UnlearningRequest request, ForgetObjective objective, String objectiveName, String adapterId, int version,
                       LoraAdapter previousAdapter, ActiveAdapters before, UnlearningHistory history, UnlearningHistory next,
                       boolean exact, Path workDir, PhaseTimer progress, long started) {
    String concept = request.getConcept() == null || request.getConcept().isBlank() ? null : request.getConcept();
    List<String> requestPrompts = request.getForgetExamples().stream().map(Example::getPrompt).distinct().toList();
    ProbeSet probes = probes(concept, requestPrompts);

    progress.phase("building forget targets and retain set");
    List<ForgetTarget> targets = progress.time("forget targets", () -> forgetTargets(request, concept, requestPrompts, objective, before));
    int current = targets.size();
    List<ProbeSet> earlier = new ArrayList<>();
    for (UnlearningHistory.Entry e : history.entries()) {
      if (e.concept() != null && !e.concept().equalsIgnoreCase(String.valueOf(concept))) {
        ProbeSet set = probes(e.concept(), e.forget().stream().map(UnlearningHistory.Item::prompt).distinct().toList());
        earlier.add(set);
        targets.addAll(constraintTargets(set, objective));
      }
    }
    if (current == 0) {
      throw new IllegalArgumentException("nothing to unlearn: no forget example " + (concept == null ? "" : "names '" + concept
          + "' and no answer of the model to the forget prompts or their paraphrases does"));
    }
    Set<String> concepts = new LinkedHashSet<>();
    next.entries().stream().map(UnlearningHistory.Entry::concept).filter(c -> c != null && !c.isBlank()).forEach(concepts::add);
    List<Example> requestedRetain = new ArrayList<>();
    next.entries().forEach(e -> e.retain().forEach(i -> requestedRetain.add(i.toExample())));
    RetainSet retainSet = progress.time("retain set", () -> RetainSet.build(answers, concepts, requestedRetain));
    List<RetainExample> retain = retainSet.training();

    LoraAdapter adapter = previousAdapter == null
        ? LoraAdapter.create(adapterId, version, model.config(),
            new LoraConfig(settings.rank(), settings.alpha(), settings.dropout(), settings.targets(), List.of(), false),
            model.manager(), settings.seed())
        : copyOf(previousAdapter, version);
    try {
      Map<LoraTarget, ModuleMask> masks = Map.of();
      if (settings.masked()) {
        progress.phase("scoring neurons (saliency, Fisher) and building masks");
        List<Continuation> forgetSeqs = targets.subList(0, current).stream().map(ForgetTarget::sequence).limit(MAX_PROBE_SEQUENCES)
            .toList();
        List<Continuation> retainSeqs = retain.stream().map(RetainExample::sequence).limit(MAX_PROBE_SEQUENCES).toList();
        masks = new NeuronMaskBuilder(settings.maskTopFraction(), settings.maskThreshold())
            .build(model, before, adapter.config().targets(), forgetSeqs, retainSeqs);
        for (LoraTarget t : adapter.targets()) {
          ModuleMask m = masks.get(t);
          if (m != null) {
            boolean[] mask = m.mask().clone();
            Optional<boolean[]> old = previousAdapter == null ? Optional.empty() : previousAdapter.mask(t);
            old.ifPresent(o -> {
              for (int j = 0; j < mask.length; j++) {
                mask[j] |= o[j];
              }
            });
            adapter.setMask(t, mask);
          }
        }
      }

      progress.phase("weighting forget examples (U2A)");
      List<Continuation> objectiveSeqs = targets.stream().map(objective::sequence).toList();
      double[] weights = u2aWeights(adapter, targets, retain);
      float[] reference = null;
      if (objective.needsReference()) {
        double[] ref = model.logProbs(objectiveSeqs, before);
        reference = new float[ref.length];
        for (int i = 0; i < ref.length; i++) {
          reference[i] = (float) ref[i];
        }
      }
      List<String> trainingProbePrompts = targets.subList(0, current).stream().map(ForgetTarget::prompt).distinct().toList();
      LOG.info("request {}: {} forget targets ({} constraints), {} retain examples, objective {}, {} masked modules",
          request.getRequestId(), targets.size(), targets.size() - current, retain.size(), objectiveName, adapter.maskedTargets().size());

      progress.phase("training");
      ActiveAdapters after = ActiveAdapters.of(adapter);
      MaskedLoraTrainer.Result result = MaskedLoraTrainer.train(model, adapter, objective, targets, weights, reference, retain,
          settings, progress.clocked("early-stop checks", () -> forgotten(trainingProbePrompts, concept, request, after)), progress);

      progress.phase("evaluating");
      Map<String, Double> metrics = new TreeMap<>();
      if (concept != null) {
        put(metrics, progress.time("concept before", () -> evaluator.concept(probes, before)), Metrics.BEFORE);
        put(metrics, progress.time("concept after", () -> evaluator.concept(probes, after)), "");
      } else {
        metrics.put(Metrics.DIRECT_MENTION + Metrics.BEFORE, repeatRate(request, before));
        metrics.put(Metrics.DIRECT_MENTION, repeatRate(request, after));
      }
      RetainFigures retainBase = progress.time("retain base", () -> evaluator.retain(retainSet.evaluationPrompts(), ActiveAdapters.NONE));
      RetainFigures retainAfter = progress.time("retain after", () -> evaluator.retain(retainSet.evaluationPrompts(), after));
      metrics.put(Metrics.RETAIN_AGREEMENT, retainAfter.agreement());
      metrics.put(Metrics.RETAIN_ACCURACY, retainAfter.accuracy());
      metrics.put(Metrics.RETAIN_ACCURACY_BASE, retainBase.accuracy());
      metrics.put(Metrics.RETAIN_PERPLEXITY_RATIO, retainAfter.perplexityRatio());
      metrics.put(Metrics.RETAIN_AGREEMENT_LOW, retainAfter.agreed().low());
      metrics.put(Metrics.RETAIN_AGREEMENT_HIGH, retainAfter.agreed().high());
      metrics.put(Metrics.RETAIN_PROMPTS, (double) retainAfter.agreed().n());
      metrics.put(Metrics.RETAIN_HELD_OUT_INTENT_AGREEMENT, retainAfter.heldOutIntentAgreed().rate());
      metrics.put(Metrics.RETAIN_HELD_OUT_INTENT_PROMPTS, (double) retainAfter.heldOutIntentAgreed().n());
      evaluator.worstPreviousMentionRate(earlier, after, 8).ifPresent(v -> metrics.put(Metrics.PREVIOUS_MENTION, v));
      metrics.put(Metrics.STEPS, (double) result.steps());
      metrics.put(Metrics.FINAL_LOSS, result.finalLoss());
      metrics.put(Metrics.NON_FINITE_RETRIES, (double) result.nonFiniteRetries());
      metrics.put(Metrics.SECONDS, (System.nanoTime() - started) / 1e9);
      metrics.put(Metrics.MASKED_FRACTION, keptFraction(adapter));
      metrics.put(Metrics.FORGET_TARGETS, (double) current);
      metrics.put(Metrics.CONSTRAINT_TARGETS, (double) (targets.size() - current));
      metrics.put(Metrics.RETAIN_EXAMPLES, (double) retain.size());
      metrics.put(Metrics.EXACT_RETRAIN, exact ? 1.0 : 0.0);
      metrics.values().removeIf(v -> v == null || v.isNaN() || v.isInfinite());

      progress.phase("writing adapter");
      adapter.setMetadata(new AdapterMetadata(baseModelName, next.lineage(), metrics));
      PeftAdapterWriter.write(adapter, workDir);
      next.write(workDir);
      Optional<String> refusal = PublicationGate.of(settings).refusal(metrics);
      UnlearningOutcome outcome = refusal.isEmpty() ? UnlearningOutcome.passed(workDir, metrics)
          : UnlearningOutcome.failed(workDir, metrics, refusal.get());
      progress.stop();
      LOG.info("request {}: {} v{} {} after {} steps ({} s): {}", request.getRequestId(), adapterId, version,
          refusal.isEmpty() ? "passed the gate" : "FAILED the gate", result.steps(), String.format("%.1f", metrics.get(Metrics.SECONDS)),
          refusal.orElse("ok"));
      LOG.info("request {}: phases: {}", request.getRequestId(), progress.summary());
      return new Report(outcome.superseding(exact), masks, exact, progress.seconds());
    } finally {
      adapter.close();
    }
  }

  /** The probe families of {@code concept}: training families (direct, paraphrased) and evaluation families. */
  public ProbeSet probes(String concept, List<String> requestPrompts) {
    if (concept == null) {
      return new ProbeSet(null, requestPrompts, List.of(), Map.of());
    }
    return new ProbeSet(concept, requestPrompts, augmenter.paraphrasePrompts(concept, requestPrompts),
        EvaluationProbes.families(ConceptCatalog.lookup(concept), requestPrompts));
  }

  private List<ForgetTarget> forgetTargets(UnlearningRequest request, String concept, List<String> requestPrompts,
                                           ForgetObjective objective, ActiveAdapters before) {
    String alternative = objective instanceof RefusalLoss r ? r.answer() : settings.refusalAnswer();
    Map<String, ForgetTarget> out = new LinkedHashMap<>();
    for (Example e : request.getForgetExamples()) {
      ForgetTarget.of(model, e.getPrompt(), e.getResponse(), concept, e.getWeight(), alternative, false)
          .ifPresent(t -> out.putIfAbsent(t.prompt() + "\u0000" + t.answer(), t));
    }
    if (concept != null) {
      List<String> prompts = augmenter.trainingPrompts(concept, requestPrompts);
      List<String> base = answers.answers(prompts, ActiveAdapters.NONE); // both sets of answers decoded as batches
      List<String> current = answers.answers(prompts, before);
      for (int i = 0; i < prompts.size(); i++) {
        String p = prompts.get(i);
        for (String answer : List.of(base.get(i), current.get(i))) {
          ForgetTarget.of(model, p, answer, concept, 1.0, alternative, false)
              .ifPresent(t -> out.putIfAbsent(t.prompt() + "\u0000" + t.answer(), t));
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  /** Targets that keep an earlier request's concept forgotten: its probes whose base answer names it. */
  private List<ForgetTarget> constraintTargets(ProbeSet set, ForgetObjective objective) {
    String alternative = objective instanceof RefusalLoss r ? r.answer() : settings.refusalAnswer();
    List<ForgetTarget> out = new ArrayList<>();
    List<String> prompts = new ArrayList<>(set.direct());
    prompts.addAll(set.paraphrased());
    answers.answers(prompts, ActiveAdapters.NONE); // base answers batched into the cache
    for (String p : prompts) {
      if (out.size() >= MAX_CONSTRAINTS_PER_CONCEPT) {
        break;
      }
      ForgetTarget.of(model, p, answers.base(p), set.concept(), 1.0, alternative, true).ifPresent(out::add);
    }
    return out;
  }

  private double[] u2aWeights(LoraAdapter adapter, List<ForgetTarget> targets, List<RetainExample> retain) {
    int n = targets.size();
    double[] requestWeights = new double[n];
    double[] tokenLogProbs = new double[n];
    double[] cosines = new double[n];
    List<Continuation> seqs = targets.stream().map(ForgetTarget::sequence).toList();
    double[] lp = model.logProbs(seqs, ActiveAdapters.of(adapter));
    for (int i = 0; i < n; i++) {
      requestWeights[i] = targets.get(i).weight();
      // constraints stay active: the ascent floor already silences them while they hold
      tokenLogProbs[i] = targets.get(i).constraint() ? 0 : lp[i] / Math.max(1, targets.get(i).length());
    }
    if (settings.u2aTemperature() > 0) {
      List<Continuation> retainSeqs = retain.stream().map(RetainExample::sequence).limit(32).toList();
      cosines = U2aWeighting.gradientCosines(model, ActiveAdapters.of(adapter), adapter, seqs, retainSeqs);
    }
    double[] w = new U2aWeighting(settings.u2aTemperature(), settings.ascentFloor()).weights(cosines, requestWeights, tokenLogProbs);
    LOG.debug("U2A cosines {} weights {}", cosines, w);
    return w;
  }

  private boolean forgotten(List<String> prompts, String concept, UnlearningRequest request, ActiveAdapters after) {
    if (concept == null) {
      return repeatRate(request, after) == 0;
    }
    return evaluator.noMentions(prompts, concept, after);
  }

  /** Without a concept: how often the greedy answer to a forget prompt is still the forget response. */
  private double repeatRate(UnlearningRequest request, ActiveAdapters adapters) {
    int hits = 0;
    List<String> got = answers.answers(request.getForgetExamples().stream().map(Example::getPrompt).toList(), adapters);
    for (int i = 0; i < got.size(); i++) {
      hits += got.get(i).equals(request.getForgetExamples().get(i).getResponse().strip()) ? 1 : 0;
    }
    return (double) hits / request.getForgetExamples().size();
  }

  private static void put(Map<String, Double> metrics, ConceptFigures f, String suffix) {
    metrics.put(Metrics.DIRECT_MENTION + suffix, f.directRate());
    metrics.put(Metrics.PARAPHRASE_MENTION + suffix, f.paraphraseRate());
    metrics.put(Metrics.HELD_OUT_MENTION + suffix, f.heldOutRate());
    metrics.put(Metrics.DIRECT_LOGPROB + suffix, f.directLogProb());
    metrics.put(Metrics.PARAPHRASE_LOGPROB + suffix, f.paraphraseLogProb());
    metrics.put(Metrics.HELD_OUT_LOGPROB + suffix, f.heldOutLogProb());
    metrics.put(Metrics.TRAINING_LEAK + suffix, f.trainingLeak().rate());
    metrics.put(Metrics.EVAL_LEAK + suffix, f.evaluationLeak().rate());
    metrics.put(Metrics.EVAL_LEAK_LOW + suffix, f.evaluationLeak().low());
    metrics.put(Metrics.EVAL_LEAK_HIGH + suffix, f.evaluationLeak().high());
    metrics.put(Metrics.EVAL_PROBES + suffix, (double) f.evaluationLeak().n());
    f.familyLeak().forEach((family, p) -> metrics.put(Metrics.familyLeak(family) + suffix, p.rate()));
  }

  private static double keptFraction(LoraAdapter adapter) {
    long kept = 0;
    long total = 0;
    for (LoraTarget t : adapter.targets()) {
      long width = adapter.loraB(t).getShape().get(0);
      total += width;
      kept += adapter.mask(t).map(m -> {
        int k = 0;
        for (boolean b : m) {
          k += b ? 1 : 0;
        }
        return (long) k;
      }).orElse(width);
    }
    return total == 0 ? 1 : (double) kept / total;
  }

  /** Whether a deletion's lineage names this scope's adapter (any version: {@code user-alice} or {@code user-alice@3}). */
  static boolean namesAdapter(List<String> lineage, String adapterId) {
    return lineage.stream().anyMatch(l -> l.equals(adapterId) || l.startsWith(adapterId + "@"));
  }

  private LoraAdapter copyOf(LoraAdapter previous, int version) {
    Map<LoraTarget, NDArray> a = new HashMap<>();
    Map<LoraTarget, NDArray> b = new HashMap<>();
    for (LoraTarget t : previous.targets()) {
      a.put(t, previous.loraA(t));
      b.put(t, previous.loraB(t));
    }
    LoraAdapter copy = LoraAdapter.fromTensors(previous.id(), version, previous.config(), a, b, model.manager());
    for (LoraTarget t : previous.maskedTargets()) {
      previous.mask(t).ifPresent(m -> copy.setMask(t, m));
    }
    return copy;
  }
}
