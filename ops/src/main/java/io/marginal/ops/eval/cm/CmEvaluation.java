package io.marginal.ops.eval.cm;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.cm.DiscrepancyEstimator;
import io.marginal.personalization.cm.KnnDiscrepancyEstimator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * CM accuracy with simulated users under several {@link EvaluationProtocol}s, against four baselines: the base model,
 * an instance-independent per-user transition T_u(y | r), a kNN vote over the bank, and prompt-only. Every table is
 * mean and 95 % t-interval over seeds. Callable as a library ({@link #evaluate(IntentDataset, List, EvalSettings)})
 * and as a command.
 *
 * <p>Usage: {@code CmEvaluation <dataset> [<dataset> ...] [--protocols all|targeted,uniform,gold-1pct,gold-5pct,instance]
 * [--users 10] [--remapped 8] [--per-remapped 10] [--other 100] [--seed 1] [--seeds 5] [--bank-cap 1024]}, where a
 * dataset is {@code <clinc150|banking77> FILE} (split as {@link IntentDataset#load(String, Path)} says) or
 * {@code <clinc150|banking77> --train FILE --eval FILE} (no re-split). {@code -Dcm.k= -Dcm.lambda= -Dcm.tau= -Dcm.p=}
 * override the estimator, {@code -Dprompt.threshold=} fixes the prompt-only threshold, {@code -Dcm.tune=train} picks
 * the estimator on train first. One Markdown table per protocol is printed.
 *
 * <p>Common to every protocol. Base model: {@link TfIdfCentroidClassifier} on the train rows, top-10 candidates.
 * A user's feedback is on TRAIN rows ({@link SimulatedFeedback}: the bank is built by the topology's entry/update
 * code); accuracy is against the user's labels on the eval rows, per {@link RowGroup}. The prompt-only threshold is
 * tuned per protocol on train only ({@link #tunePromptThreshold}), and so is the kNN vote's base weight. Protocol (d)
 * gets a sixth column: CM with λ, τ, p picked on train for that protocol ({@link #bestEstimator}), the calibration the
 * issue asks for where the preference depends on the instance.
 */
public final class CmEvaluation {

  /** Train rows held out of each tuning user's feedback to tune on. */
  static final int TUNING_PROBES = 3000;

  private CmEvaluation() {
  }

  public static void main(String[] args) {
    // --train and --eval belong to the dataset before them: they reach DATASET as words, in order.
    Cli.run(Cli.commandLine(new Main()).setUnmatchedOptionsArePositionalParams(true), args);
  }

  @Command(name = "CmEvaluation", description = {"CM accuracy with simulated users under the evaluation protocols, against the baselines;",
      "one Markdown table per protocol (mean and 95 %% interval over seeds)."},
      footer = {"", "-Dcm.k= -Dcm.lambda= -Dcm.tau= -Dcm.p= override the estimator, -Dprompt.threshold= fixes the prompt-only",
          "threshold, -Dcm.tune=train picks the estimator on train first.",
          "e.g. CmEvaluation clinc150 ../shared/datasets/clinc150/data_full_train_val.json \\",
          "                  banking77 ../shared/datasets/banking77/train.csv"})
  static final class Main implements Callable<Integer> {
    @Parameters(paramLabel = "DATASET", arity = "1..*",
        description = {"<clinc150|banking77> FILE (split as IntentDataset.load says), or",
            "<clinc150|banking77> --train FILE --eval FILE (no re-split); one or more."})
    List<String> datasets;

    @Option(names = "--protocols", paramLabel = "all|P,P,...", defaultValue = "all",
        description = "Protocols: all, or some of targeted, uniform, gold-1pct, gold-5pct, instance.")
    String protocols;

    @Option(names = "--users", paramLabel = "N", description = "Simulated users per seed.")
    int users = EvalSettings.defaults().users();

    @Option(names = "--remapped", paramLabel = "N", description = "Labels each user remaps.")
    int remapped = EvalSettings.defaults().remapped();

    @Option(names = "--per-remapped", paramLabel = "N", description = "Feedback rows per remapped label.")
    int perRemapped = EvalSettings.defaults().perRemapped();

    @Option(names = "--other", paramLabel = "N", description = "Other feedback rows per user.")
    int other = EvalSettings.defaults().otherFeedback();

    @Option(names = "--seed", paramLabel = "N", description = "First seed.")
    int seed = EvalSettings.defaults().seed();

    @Option(names = "--seeds", paramLabel = "N", description = "Seeds (the interval is over them).")
    int seeds = EvalSettings.defaults().seeds();

    @Option(names = "--bank-cap", paramLabel = "N", description = "Memory-bank entries per user.")
    int bankCap = EvalSettings.defaults().bankCap();

    @Override
    public Integer call() {
      if (users < 1 || seeds < 1 || bankCap < 1 || remapped < 0 || perRemapped < 0 || other < 0) {
        throw new IllegalArgumentException("--users, --seeds and --bank-cap must be >= 1, --remapped, --per-remapped and --other >= 0");
      }
      run(datasetFiles(datasets), EvaluationProtocol.parse(protocols), settings(this));
      return 0;
    }
  }

  /** The DATASET words: {@code kind FILE} or {@code kind --train FILE --eval FILE}, repeated. */
  static List<DatasetFiles> datasetFiles(List<String> words) {
    List<DatasetFiles> datasets = new ArrayList<>();
    for (int i = 0; i < words.size(); i++) {
      String kind = words.get(i);
      if (kind.startsWith("--")) {
        throw new IllegalArgumentException("unknown option " + kind + " (or " + kind + " without a dataset before it)");
      }
      if (i + 1 < words.size() && words.get(i + 1).equals("--train")) {
        if (i + 4 >= words.size() || !words.get(i + 3).equals("--eval")) {
          throw new IllegalArgumentException(kind + " --train FILE must be followed by --eval FILE");
        }
        datasets.add(new DatasetFiles(kind, words.get(i + 2), words.get(i + 4)));
        i += 4;
      } else if (i + 1 < words.size() && !words.get(i + 1).startsWith("--")) {
        datasets.add(new DatasetFiles(kind, words.get(i + 1), null));
        i++;
      } else {
        throw new IllegalArgumentException(kind + " needs a FILE, or --train FILE --eval FILE");
      }
    }
    return datasets;
  }

  private static void run(List<DatasetFiles> datasets, List<EvaluationProtocol> protocols, EvalSettings settings) {
    Map<EvaluationProtocol, List<ProtocolResult>> byProtocol = new LinkedHashMap<>();
    for (DatasetFiles ds : datasets) {
      long started = System.nanoTime();
      IntentDataset data = ds.load();
      EvalSettings used = settings;
      if ("train".equals(System.getProperty("cm.tune"))) {
        used = tuneEstimatorOnTrain(new EncodedDataset(data), settings);
        System.err.printf("%s: estimator picked on train: k=%d, λ=%s, τ=%s, p=%s%n", data.name(), used.k(), used.lambda(),
            used.tau(), used.p());
      }
      for (ProtocolResult r : evaluate(data, protocols, used)) {
        byProtocol.computeIfAbsent(r.protocol(), p -> new ArrayList<>()).add(r);
      }
      System.err.printf(Locale.ROOT, "%s: %d train, %d eval rows, %.1f s%n", data.name(), data.train().size(), data.eval().size(),
          (System.nanoTime() - started) / 1e9);
    }
    byProtocol.forEach((protocol, results) -> System.out.printf("%n### (%s) %s: %s%n%n%s", protocol.letter(), protocol.flag(),
        protocol.description(), new CmResultTable(protocol, results).toMarkdown()));
  }

  /** A dataset on the command line: one file to split, or separate train and eval files. */
  record DatasetFiles(String kind, String file, String evalFile) {
    IntentDataset load() {
      return evalFile == null ? IntentDataset.load(kind, Path.of(file)) : IntentDataset.load(kind, Path.of(file), Path.of(evalFile));
    }
  }

  private static EvalSettings settings(Main o) {
    EvalSettings d = EvalSettings.defaults();
    EvalSettings s = new EvalSettings(o.users, o.remapped, o.perRemapped, o.other, o.seed, o.seeds, d.k(), d.lambda(), d.tau(), d.p(),
        d.promptThreshold(), o.bankCap);
    if (System.getProperty("cm.k") != null) {
      s = s.withEstimator(Integer.getInteger("cm.k"), Double.parseDouble(System.getProperty("cm.lambda")),
          Double.parseDouble(System.getProperty("cm.tau")), Double.parseDouble(System.getProperty("cm.p")));
    }
    if (System.getProperty("prompt.threshold") != null) {
      s = s.withPromptThreshold(Double.parseDouble(System.getProperty("prompt.threshold")));
    }
    return s;
  }

  /** Every given protocol on one dataset, with the standard methods; the dataset is encoded once for all of them. */
  public static List<ProtocolResult> evaluate(IntentDataset data, List<EvaluationProtocol> protocols, EvalSettings settings) {
    EncodedDataset encoded = new EncodedDataset(data);
    List<ProtocolResult> results = new ArrayList<>();
    for (EvaluationProtocol protocol : protocols) {
      long started = System.nanoTime();
      List<TuningProbe> probes = tuningProbes(encoded, protocol, settings, new Random(settings.seed() * 7919L + 17), "tuning-user-");
      double threshold = Double.isNaN(settings.promptThreshold()) ? tunePromptThreshold(probes) : settings.promptThreshold();
      double baseWeight = new KnnVoteBaseline(settings.k(), 1, settings.p()).tuneBaseWeight(
          probes.stream().map(t -> new KnnVoteBaseline.Probe(t.bank(), t.row().embedding(), t.row().distribution(), t.wanted())).toList());
      List<PersonalizationMethod> methods = new ArrayList<>(standardMethods(settings, threshold, baseWeight));
      if (protocol == EvaluationProtocol.INSTANCE) {
        // the improvement the issue asks for where instance-dependence matters: CM's λ, τ, p picked on train for this protocol
        EvalSettings tuned = bestEstimator(probes, settings);
        methods.add(new CmMethod(String.format(Locale.ROOT, "CM, tuned on train (λ=%s, τ=%s, p=%s)", tuned.lambda(), tuned.tau(), tuned.p()),
            tuned.estimator()));
      }
      results.add(evaluate(encoded, protocol, settings, methods));
      System.err.printf(Locale.ROOT, "  %s (%s): %.1f s%n", data.name(), protocol.flag(), (System.nanoTime() - started) / 1e9);
    }
    return results;
  }

  /**
   * Base, T_u(y|r), kNN vote, prompt-only, CM, and CM with λ calibrated per user by leave-one-out on the user's bank
   * (over {@link #LAMBDA_GRID}): the columns of every table.
   */
  public static List<PersonalizationMethod> standardMethods(EvalSettings s, double promptThreshold, double knnBaseWeight) {
    return List.of(new BaseModelBaseline(), new InstanceIndependentTransition(s.lambda()), new KnnVoteBaseline(s.k(), knnBaseWeight, s.p()),
        new PromptOnlyBaseline(promptThreshold), new CmMethod("CM", s.estimator()),
        new CmMethod("CM, λ per user", KnnDiscrepancyEstimator.calibratedPerUser(s.k(), LAMBDA_GRID, s.tau(), s.p())));
  }

  /**
   * One protocol, any methods (a test passes a broken estimator here): for each seed, the protocol's users, their
   * banks, and every method's answer on every eval row; per-seed accuracy per group, then the interval over seeds.
   * Deterministic for given data, settings and methods.
   */
  public static ProtocolResult evaluate(EncodedDataset data, EvaluationProtocol protocol, EvalSettings settings,
                                        List<PersonalizationMethod> methods) {
    int groups = RowGroup.values().length;
    Map<RowGroup, Map<String, List<Double>>> perSeed = new EnumMap<>(RowGroup.class);
    Map<RowGroup, Double> rowsPerSeed = new EnumMap<>(RowGroup.class);
    int usersPerSeed = 0;
    int feedbackPerUser = 0;
    for (int seed = settings.seed(); seed < settings.seed() + settings.seeds(); seed++) {
      List<SimulatedUser> users = protocol.users(data, settings, new Random(seed), "user-");
      usersPerSeed = users.size();
      long[][] hits = new long[methods.size()][groups];
      long[] n = new long[groups];
      for (SimulatedUser user : users) {
        MemoryBank bank = SimulatedFeedback.bank(user, data, settings.bankCap());
        feedbackPerUser = user.feedback().size();
        for (EncodedDataset.Instance row : data.eval()) {
          String wanted = user.preferred(row.label(), row.embedding());
          int group = user.group(row.label(), row.embedding()).ordinal();
          n[RowGroup.OVERALL.ordinal()]++;
          n[group]++;
          for (int m = 0; m < methods.size(); m++) {
            if (methods.get(m).answer(bank, row.embedding(), row.distribution()).equals(wanted)) {
              hits[m][RowGroup.OVERALL.ordinal()]++;
              hits[m][group]++;
            }
          }
        }
      }
      for (RowGroup g : RowGroup.values()) {
        if (n[g.ordinal()] == 0) {
          continue;
        }
        rowsPerSeed.merge(g, n[g.ordinal()] / (double) settings.seeds(), Double::sum);
        for (int m = 0; m < methods.size(); m++) {
          perSeed.computeIfAbsent(g, x -> new LinkedHashMap<>()).computeIfAbsent(methods.get(m).name(), x -> new ArrayList<>())
              .add(hits[m][g.ordinal()] / (double) n[g.ordinal()]);
        }
      }
    }
    Map<RowGroup, Map<String, ConfidenceInterval>> accuracy = new EnumMap<>(RowGroup.class);
    perSeed.forEach((g, byMethod) -> {
      if (byMethod.values().iterator().next().size() == settings.seeds()) { // a group every seed has rows in
        Map<String, ConfidenceInterval> cis = new LinkedHashMap<>();
        byMethod.forEach((m, values) -> cis.put(m, ConfidenceInterval.of(values)));
        accuracy.put(g, cis);
      }
    });
    rowsPerSeed.keySet().retainAll(accuracy.keySet());
    long baseTrue = data.eval().stream().filter(r -> argmax(r.distribution()).equals(r.label())).count();
    double threshold = methods.stream().filter(m -> m instanceof PromptOnlyBaseline).mapToDouble(m -> ((PromptOnlyBaseline) m).threshold())
        .findFirst().orElse(Double.NaN);
    double baseWeight = methods.stream().filter(m -> m instanceof KnnVoteBaseline).mapToDouble(m -> ((KnnVoteBaseline) m).baseWeight())
        .findFirst().orElse(Double.NaN);
    return new ProtocolResult(data.name(), protocol, settings, data.trainSize(), data.eval().size(), usersPerSeed, feedbackPerUser,
        baseTrue / (double) data.eval().size(), threshold, baseWeight, methods.stream().map(PersonalizationMethod::name).toList(), accuracy,
        rowsPerSeed);
  }

  /**
   * The prompt-only threshold for one protocol, picked on TRAIN only from {@link #tuningProbes}: the grid threshold
   * with the best accuracy against the tuning users' labels wins. The base model was fitted on these rows, so it is
   * more often right on them than on eval rows; the threshold sees the same optimism for every grid value. The kNN
   * vote's base weight is picked from the same probes.
   */
  static double tunePromptThreshold(List<TuningProbe> tuning) {
    List<PromptOnlyBaseline.Probe> probes = new ArrayList<>();
    for (TuningProbe t : tuning) {
      probes.add(new PromptOnlyBaseline.Probe(PromptOnlyBaseline.retrieve(t.bank(), t.row().embedding()), t.row().distribution(),
          t.wanted()));
    }
    return PromptOnlyBaseline.tuneThreshold(probes);
  }

  /** The grid {@link #tuneEstimatorOnTrain} searches: λ × τ × p at k = 10 (the grid of the original sweep). */
  static final double[] LAMBDA_GRID = {0.05, 0.1, 0.2, 0.5, 1.0};
  static final double[] TAU_GRID = {0.0, 0.1};
  static final double[] P_GRID = {1.0, 2.0};

  /**
   * CM's estimator settings picked on TRAIN only, with protocol (a)'s tuning users probed as in
   * {@link #tunePromptThreshold}; the grid point with the best accuracy against their labels wins (ties: the earlier
   * grid point). Its own random stream. {@code -Dcm.tune=train} on the command line.
   */
  public static EvalSettings tuneEstimatorOnTrain(EncodedDataset data, EvalSettings settings) {
    return bestEstimator(tuningProbes(data, EvaluationProtocol.TARGETED, settings, new Random(settings.seed() * 104729L + 31),
        "cm-tuning-user-"), settings);
  }

  /** The grid point with the most hits over the probes (ties: the earlier grid point). */
  private static EvalSettings bestEstimator(List<TuningProbe> probes, EvalSettings settings) {
    EvalSettings best = settings;
    long bestHits = -1;
    for (double lambda : LAMBDA_GRID) {
      for (double tau : TAU_GRID) {
        for (double p : P_GRID) {
          DiscrepancyEstimator cm = new KnnDiscrepancyEstimator(settings.k(), lambda, tau, p);
          long hits = probes.stream()
              .filter(t -> argmax(cm.marginalize(t.bank(), t.row().embedding(), t.row().distribution())).equals(t.wanted())).count();
          if (hits > bestHits) {
            bestHits = hits;
            best = settings.withEstimator(settings.k(), lambda, tau, p);
          }
        }
      }
    }
    return best;
  }

  /** One train row probed for one tuning user: the user's bank, the row, the user's label for it. */
  record TuningProbe(MemoryBank bank, EncodedDataset.Instance row, String wanted) {}

  /**
   * The protocol's users for one tuning seed (TRAIN only, its own random stream, so the evaluation users are
   * unchanged), each probed on up to {@value #TUNING_PROBES} train rows outside their feedback.
   */
  private static List<TuningProbe> tuningProbes(EncodedDataset data, EvaluationProtocol protocol, EvalSettings settings, Random random,
                                                String userPrefix) {
    List<Integer> pool = new ArrayList<>();
    for (int i = 0; i < data.trainSize(); i++) {
      pool.add(i);
    }
    Collections.shuffle(pool, random);
    pool = pool.subList(0, Math.min(TUNING_PROBES, pool.size()));
    List<TuningProbe> probes = new ArrayList<>();
    for (SimulatedUser user : protocol.users(data, settings, random, userPrefix)) {
      MemoryBank bank = SimulatedFeedback.bank(user, data, settings.bankCap());
      Set<IntentDataset.Labelled> inFeedback = new HashSet<>();   // by value: duplicate texts are not probes either
      user.feedback().forEach(i -> inFeedback.add(data.data().train().get(i)));
      for (int i : pool) {
        EncodedDataset.Instance row = data.train(i);
        if (!inFeedback.contains(row.row())) {
          probes.add(new TuningProbe(bank, row, user.preferred(row.label(), row.embedding())));
        }
      }
    }
    return probes;
  }

  static String argmax(Map<String, Double> p) {
    String best = null;
    double bestP = -1;
    for (Map.Entry<String, Double> e : p.entrySet()) {
      if (e.getValue() > bestP) {
        best = e.getKey();
        bestP = e.getValue();
      }
    }
    return best;
  }
}
