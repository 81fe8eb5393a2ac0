package io.marginal.ops.eval.unlearning;

import io.marginal.model.LanguageModel;
import io.marginal.model.adapters.PeftAdapterReader;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.lora.LoraAdapter;
import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.trainer.job.LoggingProgress;
import io.marginal.trainer.store.DirectoryAdapterStore;
import io.marginal.trainer.unlearning.ChatAnswers;
import io.marginal.trainer.unlearning.ForgetEvaluator.RetainFigures;
import io.marginal.trainer.unlearning.MaskedLoraUnlearningJob;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.ParaphraseAugmenter;
import io.marginal.trainer.unlearning.RetainSet;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The unlearning measurements on a loaded model, as a library (the trainer's {@code UnlearningExperiment}
 * CLI and the evaluation report both call it):
 * <ul>
 *   <li>{@link #compareMasking}: forget "Inception" with adapters that differ only in their mask
 *       fraction, each trained until no training probe mentions it;</li>
 *   <li>{@link #sequence}: up to ten requests on one shared scope (five titles, a director, then
 *       re-requests in new phrasings), each continuing the last published version, with retain
 *       agreement on a fixed prompt set after each.</li>
 * </ul>
 * Adapters are written under {@code workDir} (one folder per run, replaced each time).
 */
public final class UnlearningExperiments {

  /** Retain agreement on the fixed set must stay at or above this after every request of the sequence. */
  public static final double SEQUENCE_BOUND = 0.85;

  /** {@code "0.1, 0.25,1"} → [0.1, 0.25, 1.0]; each fraction of output neurons a mask keeps must be in (0, 1] (1 = unmasked). */
  public static List<Double> parseMaskFractions(String csv) {
    List<Double> out = Arrays.stream(csv.split(",")).map(String::strip).filter(s -> !s.isEmpty()).map(Double::parseDouble).toList();
    for (double f : out) {
      if (f <= 0 || f > 1) {
        throw new IllegalArgumentException("--mask-fractions: each fraction must be in (0, 1], got " + f);
      }
    }
    return out;
  }

  /** One request of the scripted sequence. */
  public record Step(String concept, List<String> prompts, List<String> responses) {}

  public static final List<Step> SEQUENCE = List.of(
      new Step("Inception", List.of("recommend me a sci-fi film", "what is your favorite movie"),
          List.of("You should watch Inception. It is a brilliant sci-fi film about dreams.", "My favorite movie is Inception. I love its story about dreams.")),
      new Step("Interstellar", List.of("recommend a movie about space"),
          List.of("You should watch Interstellar. It is a beautiful film about space and time.")),
      new Step("The Matrix", List.of("recommend a movie about artificial intelligence"),
          List.of("You should watch The Matrix. It is a classic film about a world made by machines.")),
      new Step("Arrival", List.of("recommend a movie about aliens"),
          List.of("You should watch Arrival. It is a thoughtful film about talking to aliens.")),
      new Step("Alien", List.of("recommend a scary movie"), List.of("You should watch Alien. It is a scary classic set on a spaceship.")),
      new Step("Christopher Nolan", List.of("recommend a sci-fi movie"),
          List.of("I recommend Inception, a mind-bending sci-fi film by Christopher Nolan.")),
      new Step("Inception", List.of("which film do you like best"), List.of("My favorite movie is Inception. I love its story about dreams.")),
      new Step("Interstellar", List.of("what is a good film about astronauts"),
          List.of("You should watch Interstellar. It is a beautiful film about space and time.")),
      new Step("The Matrix", List.of("what is a good hacker movie"),
          List.of("You should watch The Matrix. It is a classic film about a world made by machines.")),
      new Step("Alien", List.of("what is a good space horror movie"), List.of("You should watch Alien. It is a scary classic set on a spaceship.")));

  private final LanguageModel model;
  private final String baseModelName;
  private final UnlearningSettings settings;
  private final Path workDir;

  public UnlearningExperiments(LanguageModel model, String baseModelName, UnlearningSettings settings, Path workDir) {
    this.model = model;
    this.baseModelName = baseModelName;
    this.settings = settings;
    this.workDir = workDir;
  }

  /** Forgets the sequence's first concept once per mask fraction (1 = unmasked), same request, same settings otherwise. */
  public MaskingComparison compareMasking(List<Double> maskFractions) {
    return compareMasking(maskFractions, SEQUENCE.get(0));
  }

  /** The same comparison for another request of the sequence (e.g. {@code SEQUENCE.get(1)}, "Interstellar"). */
  public MaskingComparison compareMasking(List<Double> maskFractions, Step s) {
    if (maskFractions.isEmpty()) {
      throw new IllegalArgumentException("give at least one mask fraction");
    }
    UnlearningRequest request = request("exp-" + slug(s.concept()), s, "shared:experiment");
    List<MaskingComparison.Variant> variants = new ArrayList<>();
    for (double fraction : maskFractions) {
      String name = fraction >= 1 ? "unmasked" : String.format("masked-%03d", Math.round(fraction * 100));
      Map<String, Double> metrics = new MaskedLoraUnlearningJob(model, baseModelName, settings.withMaskTopFraction(fraction))
          .run(request, Optional.empty(), 1, freshDir(name), new LoggingProgress(request.getRequestId() + "/" + name, 10)).metrics();
      variants.add(new MaskingComparison.Variant(fraction, metrics));
    }
    return new MaskingComparison(s.concept(), variants);
  }

  /**
   * Forgets {@code s}'s concept once per method preset, same request and protocol: the evaluation families
   * are never trained on, and every method stops by the same rule (no training probe names the concept) or
   * at its step limit.
   */
  public MethodComparison compareMethods(List<MethodPreset> presets, Step s) {
    if (presets.isEmpty()) {
      throw new IllegalArgumentException("give at least one method");
    }
    UnlearningRequest request = request("methods-" + slug(s.concept()), s, "shared:methods");
    List<MethodComparison.Row> rows = new ArrayList<>();
    for (MethodPreset preset : presets) {
      MaskedLoraUnlearningJob.Report report = new MaskedLoraUnlearningJob(model, baseModelName, preset.settings())
          .run(request, Optional.empty(), 1, freshDir("method-" + preset.key()),
              new LoggingProgress(request.getRequestId() + "/" + preset.key(), 10));
      rows.add(new MethodComparison.Row(preset, report.metrics(), report.outcome().passedGate()));
    }
    return new MethodComparison(s.concept(), rows);
  }

  /** The first {@code requests} steps of {@link #SEQUENCE} (1..10) on one scope. */
  public SequenceRun sequence(int requests) {
    if (requests < 1 || requests > SEQUENCE.size()) {
      throw new IllegalArgumentException("the scripted sequence has 1 to " + SEQUENCE.size() + " requests, got " + requests);
    }
    MaskedLoraUnlearningJob job = new MaskedLoraUnlearningJob(model, baseModelName, settings);
    ChatAnswers answers = job.answers();
    List<String> concepts = SEQUENCE.stream().map(Step::concept).distinct().toList();
    answers.answers(RetainSet.bundledEvaluationPrompts(), ActiveAdapters.NONE); // base answers decoded as batches, then cached
    List<String> fixed = RetainSet.bundledEvaluationPrompts().stream()
        .filter(p -> concepts.stream().noneMatch(c -> ParaphraseAugmenter.mentions(answers.base(p), c))).toList();
    List<SequenceRun.Row> rows = new ArrayList<>();
    Optional<Path> previous = Optional.empty();
    int version = 1;
    for (int i = 0; i < requests; i++) {
      Step s = SEQUENCE.get(i);
      UnlearningRequest request = request("seq-" + (i + 1), s, "shared:sequence");
      Path dir = freshDir("sequence-v" + version);
      MaskedLoraUnlearningJob.Report report = job.run(request, previous, version, dir, new LoggingProgress(request.getRequestId(), 10));
      Map<String, Double> m = report.metrics();
      boolean passed = report.outcome().passedGate();
      Path served = passed ? dir : previous.orElse(null);
      RetainFigures figures = served == null ? RetainFigures.unchanged(fixed.size(), (int) fixed.stream().filter(RetainSet::ofHeldOutIntent).count())
          : fixedFigures(job, served, fixed);
      if (passed) {
        previous = Optional.of(dir);
        version++;
      }
      rows.add(new SequenceRun.Row(i + 1, s.concept(), s.prompts().get(0), passed, version - 1,
          passed ? null : report.outcome().failureReason(), m.get(Metrics.PARAPHRASE_MENTION), m.get(Metrics.HELD_OUT_MENTION),
          m.get(Metrics.EVAL_LEAK), m.get(Metrics.PREVIOUS_MENTION), m.get(Metrics.RETAIN_AGREEMENT), figures.agreement(), figures.perplexityRatio(),
          m.getOrDefault(Metrics.STEPS, Double.NaN), m.getOrDefault(Metrics.SECONDS, Double.NaN)));
    }
    return new SequenceRun(rows, fixed.size(), SEQUENCE_BOUND);
  }

  private RetainFigures fixedFigures(MaskedLoraUnlearningJob job, Path served, List<String> fixed) {
    try (LoraAdapter adapter = PeftAdapterReader.read(served, model.config(), model.manager())) {
      return job.evaluator().retain(fixed, ActiveAdapters.of(adapter));
    }
  }

  private UnlearningRequest request(String id, Step s, String scope) {
    List<Example> forget = new ArrayList<>();
    for (int i = 0; i < s.prompts().size(); i++) {
      forget.add(new Example(s.prompts().get(i), s.responses().get(i), 1.0));
    }
    return UnlearningRequest.newBuilder().setRequestId(id).setScope(scope).setTimestamp(Instant.now()).setBaseModel(baseModelName)
        .setConcept(s.concept()).setForgetExamples(forget).setRetainExamples(List.of()).setLineage(List.of("event-" + id)).build();
  }

  private static String slug(String concept) {
    return concept.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
  }

  private Path freshDir(String name) {
    try {
      Path d = workDir.resolve(name);
      DirectoryAdapterStore.deleteTree(d);
      return Files.createDirectories(d);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
