package io.marginal.ops.eval.unlearning;

import io.marginal.config.Cli;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import static io.marginal.ops.eval.unlearning.ExperimentTables.num;
import static io.marginal.ops.eval.unlearning.ExperimentTables.num0;
import static io.marginal.ops.eval.unlearning.ExperimentTables.pct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.LanguageModel;
import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import io.marginal.trainer.TrainerMain;
import io.marginal.trainer.unlearning.MaskedLoraUnlearningJob;
import io.marginal.trainer.unlearning.Metrics;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs one unlearning job from a JSON request file, for experiments:
 * <pre>
 * mvn -q -Prun -DskipTests verify -Drun.main=io.marginal.ops.eval.unlearning.UnlearnCli \
 *     -Drun.args="--request trainer-node/examples/forget-inception.json --out var/cli-adapter"
 * </pre>
 * Options: {@code --previous DIR} (continue from an adapter version), {@code --version N},
 * {@code --model DIR} (default: the demo model), {@code --objective GRAD_DIFF|NPO|REFUSAL},
 * {@code --mask-top F} (1 = unmasked), {@code --steps N}. Other settings from {@code MARGINAL_UNLEARN_*}.
 * Progress goes to stderr; the evaluation table to stdout. Exit status 0 when the adapter passed
 * the publication gate, 2 when it did not (the adapter is written either way, for inspection).
 */
public final class UnlearnCli {

  private UnlearnCli() {
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  // A bad command line exits 64: 2 means "trained, but not publishable".
  @Command(name = "UnlearnCli", exitCodeOnInvalidInput = 64, exitCodeOnExecutionException = 1, description = {"Runs one unlearning job from a JSON request file: progress on stderr, the before/after",
      "table on stdout. Exit status 0 when the adapter passed the publication gate, 2 when it did not",
      "(the adapter is written either way), 64 for a bad command line."},
      footer = {"", "Settings not given here come from MARGINAL_UNLEARN_* (trainer-node/README.md)."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--request", required = true, paramLabel = "FILE", description = "The unlearning request (JSON, see trainer-node/examples).")
    Path requestFile;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the adapter is written.")
    Path out;

    @Option(names = "--previous", paramLabel = "DIR", description = "Continue from this adapter version.")
    Path previous;

    @Option(names = "--version", paramLabel = "N", description = "Version number of the adapter written.")
    int version = 1;

    @Option(names = "--model", paramLabel = "DIR", description = "Base model checkpoint (default: the demo model).")
    String model;

    @Option(names = "--objective", paramLabel = "GRAD_DIFF|NPO|REFUSAL", description = "Forget objective (default: MARGINAL_UNLEARN_OBJECTIVE, else GRAD_DIFF).")
    String objective;

    @Option(names = "--mask-top", paramLabel = "F", description = "Fraction of neurons the mask keeps trainable, in (0, 1]; 1 = unmasked LoRA.")
    Double maskTop;

    @Option(names = "--steps", paramLabel = "N", description = "Training steps (default: MARGINAL_UNLEARN_STEPS, else 120).")
    Integer steps;

    @Option(names = "--show", description = "Print the probe answers before and after.")
    boolean show;

    @Option(names = "--repeat", paramLabel = "N", description = "Run the request N times with one job, as a trainer node keeps one for"
        + " its life (its caches survive across requests), and print each run's seconds per phase; run k > 1 writes to DIR-k.")
    int repeat = 1;

    @Override
    public Integer call() throws IOException {
      if (version < 1) {
        throw new IllegalArgumentException("--version must be >= 1, got " + version);
      }
      if (repeat < 1) {
        throw new IllegalArgumentException("--repeat must be >= 1, got " + repeat);
      }
      UnlearningSettings settings = UnlearningSettings.fromEnvironment(System.getenv());
      if (objective != null) {
        settings = settings.withObjective(objective.toUpperCase(Locale.ROOT));
      }
      if (maskTop != null) {
        settings = settings.withMaskTopFraction(maskTop);
      }
      if (steps != null) {
        settings = settings.withSteps(steps, settings.evalEvery());
      }
      UnlearningRequest request = readRequest(requestFile);
      Files.createDirectories(out);
      try (LanguageModel lm = TrainerMain.loadModel(Optional.ofNullable(model))) {
        MaskedLoraUnlearningJob job = new MaskedLoraUnlearningJob(lm, request.getBaseModel(), settings);
        MaskedLoraUnlearningJob.Report report = null;
        for (int run = 1; run <= repeat; run++) {
          Path dir = run == 1 ? out : out.resolveSibling(out.getFileName() + "-" + run);
          Files.createDirectories(dir);
          report = job.run(request, Optional.ofNullable(previous), version, dir, new ProgressBar(System.err));
          System.out.println();
          System.out.printf(Locale.ROOT, "run %d: %.2f s (%s)%n", run, report.metrics().get(Metrics.SECONDS), phases(report));
        }
        System.out.println();
        System.out.println(table(report.metrics()));
        System.out.println("adapter written to " + out.toAbsolutePath());
        if (show) {
          showAnswers(lm, job, request, out);
        }
        if (!report.outcome().passedGate()) {
          System.out.println("NOT publishable: " + report.outcome().failureReason());
          return 2;
        }
        System.out.println("passes the publication gate");
        return 0;
      }
    }
  }

  private static String phases(MaskedLoraUnlearningJob.Report report) {
    StringBuilder sb = new StringBuilder();
    report.phaseSeconds().forEach((phase, seconds) -> sb.append(sb.length() == 0 ? "" : ", ")
        .append(String.format(Locale.ROOT, "%s %.2f s", phase, seconds)));
    return sb.toString();
  }

  /** Prints the adapted model's answers to the held-out probes and the retain prompts it changed. */
  private static void showAnswers(LanguageModel model, MaskedLoraUnlearningJob job, UnlearningRequest request, Path dir) {
    try (io.marginal.model.lora.LoraAdapter adapter = io.marginal.model.adapters.PeftAdapterReader.read(dir, model.config(),
        model.manager())) {
      io.marginal.model.lora.ActiveAdapters stack = io.marginal.model.lora.ActiveAdapters.of(adapter);
      var probes = job.probes(request.getConcept(), request.getForgetExamples().stream().map(Example::getPrompt).distinct().toList());
      System.out.println("\nevaluation probes (base → adapted):");
      for (String p : probes.heldOut()) {
        System.out.println("  " + p + "\n    base:    " + job.answers().base(p) + "\n    adapted: " + job.answers().answer(p, stack));
      }
      System.out.println("\nretain prompts whose answer changed:");
      job.evaluator().retainMisses(io.marginal.trainer.unlearning.RetainSet.bundledEvaluationPrompts(), stack)
          .forEach((p, a) -> System.out.println("  " + p + "\n    base:    " + job.answers().base(p) + "\n    adapted: " + a));
    }
  }

  /** The before/after evaluation of one job as a Markdown table. */
  public static String table(Map<String, Double> m) {
    StringBuilder sb = new StringBuilder("| figure | before | after |\n| --- | --- | --- |\n");
    row(sb, "**evaluation families: leak rate (name, director, plot)**", m, Metrics.EVAL_LEAK, true);
    for (String family : io.marginal.trainer.unlearning.EvaluationProbes.FAMILIES) {
      row(sb, "  " + family + ": leak rate", m, Metrics.familyLeak(family), true);
    }
    row(sb, "evaluation families: title mention rate", m, Metrics.HELD_OUT_MENTION, true);
    row(sb, "training families (early stop's probes): title mention rate", m, Metrics.PARAPHRASE_MENTION, true);
    row(sb, "training families: leak rate", m, Metrics.TRAINING_LEAK, true);
    row(sb, "direct probes: mention rate", m, Metrics.DIRECT_MENTION, true);
    row(sb, "direct: concept log-prob", m, Metrics.DIRECT_LOGPROB, false);
    row(sb, "training families: concept log-prob", m, Metrics.PARAPHRASE_LOGPROB, false);
    row(sb, "evaluation families: concept log-prob", m, Metrics.HELD_OUT_LOGPROB, false);
    sb.append(String.format("| retain accuracy (expected answers) | %s | %s |%n", pct(m.get(Metrics.RETAIN_ACCURACY_BASE)),
        pct(m.get(Metrics.RETAIN_ACCURACY))));
    sb.append(String.format("| retain agreement with base (%s prompts, 95%% CI) | 100.0%% | %s [%s, %s] |%n", num0(m.get(Metrics.RETAIN_PROMPTS)),
        pct(m.get(Metrics.RETAIN_AGREEMENT)), pct(m.get(Metrics.RETAIN_AGREEMENT_LOW)), pct(m.get(Metrics.RETAIN_AGREEMENT_HIGH))));
    sb.append(String.format("| retain agreement, intents the retain loss never saw (%s prompts) | 100.0%% | %s |%n",
        num0(m.get(Metrics.RETAIN_HELD_OUT_INTENT_PROMPTS)), pct(m.get(Metrics.RETAIN_HELD_OUT_INTENT_AGREEMENT))));
    sb.append(String.format("| retain perplexity ratio | 1.000 | %s |%n", num(m.get(Metrics.RETAIN_PERPLEXITY_RATIO))));
    if (m.containsKey(Metrics.PREVIOUS_MENTION)) {
      sb.append(String.format("| earlier concepts: worst mention rate | | %s |%n", pct(m.get(Metrics.PREVIOUS_MENTION))));
    }
    sb.append(String.format("%nsteps %s, mask keeps %s of neurons, %s forget targets (+%s constraints), %s retain examples, %s s",
        num0(m.get(Metrics.STEPS)), pct(m.get(Metrics.MASKED_FRACTION)), num0(m.get(Metrics.FORGET_TARGETS)),
        num0(m.get(Metrics.CONSTRAINT_TARGETS)), num0(m.get(Metrics.RETAIN_EXAMPLES)), num(m.get(Metrics.SECONDS))));
    return sb.toString();
  }

  private static void row(StringBuilder sb, String label, Map<String, Double> m, String key, boolean rate) {
    Double before = m.get(key + Metrics.BEFORE);
    Double after = m.get(key);
    if (before == null && after == null) {
      return;
    }
    sb.append("| ").append(label).append(" | ").append(rate ? pct(before) : num(before)).append(" | ")
        .append(rate ? pct(after) : num(after)).append(" |\n");
  }

  /** Reads a request: {@code requestId, scope, concept, objective, baseModel, forget[], retain[], lineage[], sourceDeletionId}. */
  public static UnlearningRequest readRequest(Path file) throws IOException {
    JsonNode n = new ObjectMapper().readTree(file.toFile());
    List<Example> forget = examples(n.path("forget"));
    if (forget.isEmpty()) {
      throw new IllegalArgumentException(file + ": empty forget set: name at least one {prompt, response} under \"forget\"");
    }
    List<String> lineage = new ArrayList<>();
    n.path("lineage").forEach(x -> lineage.add(x.asText()));
    return UnlearningRequest.newBuilder()
        .setRequestId(n.path("requestId").asText("cli-" + System.currentTimeMillis()))
        .setScope(n.path("scope").asText("shared:cli"))
        .setUserId(n.hasNonNull("userId") ? n.get("userId").asText() : null)
        .setTimestamp(Instant.now())
        .setBaseModel(n.path("baseModel").asText("marginal-demo"))
        .setConcept(n.hasNonNull("concept") ? n.get("concept").asText() : null)
        .setObjective(n.hasNonNull("objective") ? n.get("objective").asText() : null)
        .setForgetExamples(forget)
        .setRetainExamples(examples(n.path("retain")))
        .setLineage(lineage)
        .setSourceDeletionId(n.hasNonNull("sourceDeletionId") ? n.get("sourceDeletionId").asText() : null)
        .build();
  }

  private static List<Example> examples(JsonNode array) {
    List<Example> out = new ArrayList<>();
    array.forEach(e -> out.add(new Example(e.path("prompt").asText(), e.path("response").asText(), e.path("weight").asDouble(1.0))));
    return out;
  }
}
