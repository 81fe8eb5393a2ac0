package io.marginal.ops.report;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import io.marginal.model.LanguageModel;
import io.marginal.ops.eval.cm.CmEvaluation;
import io.marginal.ops.eval.cm.EvalSettings;
import io.marginal.ops.eval.cm.EvaluationProtocol;
import io.marginal.ops.eval.cm.IntentDataset;
import io.marginal.ops.eval.cm.ProtocolResult;
import io.marginal.trainer.TrainerMain;
import io.marginal.ops.eval.unlearning.MaskingComparison;
import io.marginal.ops.eval.unlearning.MethodComparison;
import io.marginal.ops.eval.unlearning.MethodPreset;
import io.marginal.ops.eval.unlearning.SequenceRun;
import io.marginal.ops.eval.unlearning.UnlearningExperiments;
import io.marginal.trainer.unlearning.UnlearningSettings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The evaluation report command: runs the evaluations and writes {@code REPORT.md} plus PNG charts.
 *
 * <p>Usage (from the repository root): {@code mvn -q -Preport -DskipTests verify}, with arguments
 * {@code -Dreport.args="--clinc150 FILE --banking77 FILE --out DIR"}. Relative paths are resolved against
 * the repository root (system property {@value #ROOT_PROPERTY}, set by the profile; else the working
 * directory). Defaults: {@value #DEFAULT_CLINC}, {@value #DEFAULT_BANKING}, out {@value #DEFAULT_OUT}. Any
 * file of the same format may be given; {@code --clinc150-eval FILE} / {@code --banking77-eval FILE} evaluate on a
 * separate file (e.g. a test split), and then the main file is used whole as train. {@code --protocols}, {@code --seeds},
 * {@code --users}, {@code --seed} shape the CM evaluation (default: every protocol, 5 seeds).
 *
 * <p>Sections: {@link CmPersonalizationSection}, then {@link UnlearningSection} (demo model, trainer's experiment
 * API; {@code --skip-unlearning} leaves it out, {@code --methods} (default all; none), {@code --mask-fractions} and
 * {@code --sequential} shape it).
 */
public final class EvaluationReport {

  static final String ROOT_PROPERTY = "marginal.repo.root";
  /** Set by the ops {@code report} profile so that the report can quote the Maven command that made it. */
  static final String VIA_PROFILE_PROPERTY = "marginal.report.via-profile";
  static final String DEFAULT_CLINC = "../shared/datasets/clinc150/data_full_train_val.json";
  static final String DEFAULT_BANKING = "../shared/datasets/banking77/train.csv";
  static final String DEFAULT_OUT = "docs/report";
  private EvaluationReport() {
  }

  /** Parsed command line. */
  record Options(Map<String, String> datasets, Map<String, String> evalFiles, String out, List<EvaluationProtocol> protocols,
                 int users, int seed, int seeds, boolean unlearning, List<Double> maskFractions, int sequential,
                 String methods) {

    /** Parses a command line (see {@link Main}); a bad option throws {@link IllegalArgumentException}. */
    static Options parse(String[] args) {
      return Cli.parse(new Main(), args).options();
    }

    EvalSettings settings() {
      return EvalSettings.defaults().withUsers(users).withSeeds(seed, seeds);
    }
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "EvaluationReport", description = {"Runs the evaluations (CM personalization on CLINC150 and BANKING77, unlearning on the",
      "demo model) and writes REPORT.md with PNG charts. Relative paths are resolved against the repository root."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--clinc150", paramLabel = "FILE", description = "CLINC150 data file (data_full.json format).")
    String clinc150 = DEFAULT_CLINC;

    @Option(names = "--clinc150-eval", paramLabel = "FILE", description = "Evaluate CLINC150 on this file; the main file is then all train.")
    String clinc150Eval;

    @Option(names = "--banking77", paramLabel = "FILE", description = "BANKING77 data file (train.csv format).")
    String banking77 = DEFAULT_BANKING;

    @Option(names = "--banking77-eval", paramLabel = "FILE", description = "Evaluate BANKING77 on this file; the main file is then all train.")
    String banking77Eval;

    @Option(names = "--out", paramLabel = "DIR", description = "Where REPORT.md and the charts go.")
    String out = DEFAULT_OUT;

    @Option(names = "--protocols", paramLabel = "all|P,P,...", defaultValue = "all",
        description = "CM protocols: all, or some of targeted, uniform, gold-1pct, gold-5pct, instance.")
    String protocols;

    @Option(names = "--users", paramLabel = "N", description = "Simulated users per seed.")
    int users = EvalSettings.defaults().users();

    @Option(names = "--seed", paramLabel = "N", description = "First seed.")
    int seed = EvalSettings.defaults().seed();

    @Option(names = "--seeds", paramLabel = "N", description = "Seeds (the intervals are over them).")
    int seeds = EvalSettings.defaults().seeds();

    @Option(names = "--mask-fractions", paramLabel = "F,F,...",
        description = "Unlearning mask fractions to compare, each in (0, 1] (default: the configured fraction and 1, unmasked).")
    String maskFractions;

    @Option(names = "--sequential", paramLabel = "N", description = "Sequential unlearning requests (0 = none).")
    int sequential = UnlearningExperiments.SEQUENCE.size();

    @Option(names = "--methods", paramLabel = "all|none|NAME,...",
        description = "Unlearning methods to compare: all, none, or graddiff,npo,refusal,graddiff-no-u2a,graddiff-unmasked,reference.")
    String methods = "all";

    @Option(names = "--skip-unlearning", description = "Leave the unlearning section out.")
    boolean skipUnlearning;

    @Spec
    CommandSpec spec;

    /** The parsed and checked options. */
    Options options() {
      if (sequential < 0 || sequential > UnlearningExperiments.SEQUENCE.size()) {
        throw new IllegalArgumentException("--sequential must be 0 to " + UnlearningExperiments.SEQUENCE.size() + ", got " + sequential);
      }
      if (users < 1 || seeds < 1) {
        throw new IllegalArgumentException("--users and --seeds must be >= 1, got " + users + " and " + seeds);
      }
      Map<String, String> datasets = new LinkedHashMap<>();
      datasets.put("clinc150", clinc150);
      datasets.put("banking77", banking77);
      Map<String, String> evalFiles = new LinkedHashMap<>();
      if (clinc150Eval != null) {
        evalFiles.put("clinc150", clinc150Eval);
      }
      if (banking77Eval != null) {
        evalFiles.put("banking77", banking77Eval);
      }
      List<Double> fractions = maskFractions == null ? List.of(UnlearningSettings.defaults().maskTopFraction(), 1.0)
          : UnlearningExperiments.parseMaskFractions(maskFractions);
      if (!methods.equalsIgnoreCase("none")) {
        MethodPreset.select(methods, UnlearningSettings.defaults()); // an unknown name fails before any work
      }
      return new Options(datasets, evalFiles, out, EvaluationProtocol.parse(protocols), users, seed, seeds, !skipUnlearning,
          fractions, sequential, methods);
    }

    @Override
    public Integer call() {
      return write(options(), spec.commandLine().getParseResult().originalArgs().toArray(String[]::new));
    }
  }

  private static int write(Options options, String[] args) {
    Path root = Path.of(System.getProperty(ROOT_PROPERTY, ".")).toAbsolutePath().normalize();
    Map<String, Path> files = new LinkedHashMap<>();
    Map<String, Path> evalFiles = new LinkedHashMap<>();
    List<String> missing = new ArrayList<>();
    options.datasets().forEach((kind, file) -> files.put(kind, existing(root, kind, file, missing)));
    options.evalFiles().forEach((kind, file) -> evalFiles.put(kind, existing(root, kind + " eval", file, missing)));
    if (!missing.isEmpty()) {
      System.err.println(String.join("\n", missing) + "\n  pass the files explicitly, e.g. -Dreport.args=\"--clinc150 /path/data_full.json"
          + " --banking77 /path/train.csv\" (see ../shared/datasets/README.md; EvaluationReport --help lists the options)");
      return Cli.USAGE;
    }

    List<ProtocolResult> results = new ArrayList<>();
    Map<String, String> dataFiles = new LinkedHashMap<>();
    for (Map.Entry<String, Path> f : files.entrySet()) {
      long started = System.nanoTime();
      Path evalFile = evalFiles.get(f.getKey());
      IntentDataset data = evalFile == null ? IntentDataset.load(f.getKey(), f.getValue())
          : IntentDataset.load(f.getKey(), f.getValue(), evalFile);
      results.addAll(CmEvaluation.evaluate(data, options.protocols(), options.settings()));
      String given = options.datasets().get(f.getKey());
      dataFiles.put(data.name(), evalFile == null ? "`" + given + "`"
          : "`" + given + "` (train) + `" + options.evalFiles().get(f.getKey()) + "` (eval, not re-split)");
      System.err.printf(Locale.ROOT, "CM evaluation %s: %.1f s%n", data.name(), (System.nanoTime() - started) / 1e9);
    }

    ReportSection unlearning = options.unlearning() ? unlearningSection(options, root) : new PendingSection("Unlearning",
        "Skipped in this run (--skip-unlearning).");
    // provenance last: its wall time covers every measurement above
    MarkdownReport report = new MarkdownReport("Marginal — evaluation report", provenance(args))
        .add(new CmPersonalizationSection(results, dataFiles))
        .add(unlearning);
    Path written = report.write(root.resolve(options.out()).normalize());
    System.err.println("wrote " + written);
    return 0;
  }

  private static Path existing(Path root, String what, String file, List<String> missing) {
    Path p = root.resolve(file).normalize();
    if (!Files.isRegularFile(p)) {
      missing.add(what + " data file " + p + " does not exist (given as '" + file + "', relative to " + root + ")");
    }
    return p;
  }

  /**
   * Unlearning on the demo model through the trainer's experiment API: masked vs. unmasked LoRA, then
   * {@code options.sequential()} sequential requests (none if 0). Adapters go to {@code var/report-unlearning}.
   */
  static ReportSection unlearningSection(Options options, Path root) {
    long started = System.nanoTime();
    UnlearningSettings settings = UnlearningSettings.fromEnvironment(System.getenv());
    try (LanguageModel model = TrainerMain.loadModel(Optional.empty())) {
      UnlearningExperiments experiments = new UnlearningExperiments(model, "marginal-demo", settings,
          root.resolve("var/report-unlearning"));
      Optional<MethodComparison> methods = Optional.empty();
      if (!options.methods().equalsIgnoreCase("none")) {
        System.err.println("unlearning: methods " + options.methods());
        methods = Optional.of(experiments.compareMethods(MethodPreset.select(options.methods(), settings),
            UnlearningExperiments.SEQUENCE.get(0)));
      }
      System.err.println("unlearning: masked vs unmasked LoRA, mask fractions " + options.maskFractions());
      MaskingComparison comparison = experiments.compareMasking(options.maskFractions());
      Optional<SequenceRun> sequence = Optional.empty();
      if (options.sequential() > 0) {
        System.err.println("unlearning: " + options.sequential() + " sequential requests");
        sequence = Optional.of(experiments.sequence(options.sequential()));
      }
      System.err.printf(Locale.ROOT, "unlearning evaluation: %.1f s%n", (System.nanoTime() - started) / 1e9);
      return new UnlearningSection(methods, comparison, sequence, settings);
    }
  }

  /** Command, date and machine, so that the figures can be reproduced and compared. */
  static List<String> provenance(String[] args) {
    String joined = String.join(" ", args);
    String command = Boolean.getBoolean(VIA_PROFILE_PROPERTY)
        ? "mvn -q -Preport -DskipTests verify" + (joined.isBlank() ? "" : " -Dreport.args=\"" + joined + "\"")
        : "java -cp <ops classpath> " + EvaluationReport.class.getName() + (joined.isBlank() ? "" : " " + joined);
    Runtime rt = Runtime.getRuntime();
    String machine = String.format(Locale.ROOT, "%d cores available to the JVM%s, %s %s, Java %s, max heap %.1f GiB",
        rt.availableProcessors(), cpuModel(), System.getProperty("os.name"), System.getProperty("os.arch"),
        System.getProperty("java.version"), rt.maxMemory() / (1024.0 * 1024 * 1024));
    return List.of(
        "Command (from the repository root): `" + command + "`",
        "Date: " + ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")),
        "Machine: " + machine,
        "Wall time of the run: " + String.format(Locale.ROOT, "%.0f s", ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0));
  }

  private static String cpuModel() {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    if (!Files.isReadable(cpuinfo)) {
      return "";
    }
    try (Stream<String> lines = Files.lines(cpuinfo)) {
      return lines.filter(l -> l.startsWith("model name")).findFirst()
          .map(l -> " (" + l.substring(l.indexOf(':') + 1).strip() + ")").orElse("");
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
