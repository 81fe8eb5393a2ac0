package io.marginal.streams.eval;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.Candidate;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.personalization.bank.DiscrepancyEntries;
import io.marginal.personalization.bank.MemoryBankUpdater;
import io.marginal.personalization.cm.DiscrepancyEstimator;
import io.marginal.personalization.cm.KnnDiscrepancyEstimator;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * CM accuracy with simulated users: base model vs. a prompt-only baseline vs. base model marginalised
 * through each user's bank. Callable as a library ({@link #evaluate(IntentDataset, EvalSettings)}) and as a command.
 *
 * <p>Usage: {@code CmEvaluation <clinc150|banking77> <data file> [<kind> <file> ...] [--users 10] [--remapped 8]
 * [--per-remapped 10] [--other 100] [--seed 1]}; {@code -Dcm.k= -Dcm.lambda= -Dcm.tau= -Dcm.p=} override the
 * estimator, {@code -Dprompt.threshold=} fixes the prompt-only threshold (default: tuned on train). One Markdown
 * table is printed.
 *
 * <p>Protocol. Base model: {@link TfIdfCentroidClassifier} trained on the train split, top-10 candidates.
 * Each simulated user remaps {@code remapped} random intents to other random intents (their preferred label
 * for an instance of intent a is remap(a), else a). The user gives feedback on a sample of TRAIN examples
 * ({@code feedbackPerRemapped} per remapped intent plus {@code otherFeedback} others): the model serves its
 * argmax r; if r equals the user's label it is THUMBS_UP, else PREFERRED_RESPONSE with the user's label.
 * The bank is built through the same {@link DiscrepancyEntries}/{@link MemoryBankUpdater} code as the
 * topology. Evaluation is on the eval split (CLINC150 val; BANKING77 held-out 20%): accuracy against the
 * user's labels, overall, on remapped intents only, and on unaffected intents (no-harm check), for the base
 * model, the {@link PromptOnlyBaseline} (same bank, threshold tuned on train by {@link #tunePromptThreshold})
 * and CM.
 */
public final class CmEvaluation {

  static final int EMBEDDING_DIM = 256;
  static final int CANDIDATES = 10;
  static final double TEMPERATURE = 0.05;
  /** Train rows held out of each tuning user's feedback to tune the prompt-only threshold on. */
  static final int TUNING_PROBES = 3000;

  private CmEvaluation() {
  }

  /**
   * What an evaluation run does.
   *
   * @param promptThreshold the prompt-only similarity threshold, or NaN to tune it on train
   */
  public record EvalSettings(int users, int remapped, int perRemapped, int otherFeedback, int seed,
                             int k, double lambda, double tau, double p, double promptThreshold) {

    /** The protocol of streams/README.md: 10 users × 8 remapped intents, 10 + 100 feedback, seed 1, estimator defaults. */
    public static EvalSettings defaults() {
      return new EvalSettings(10, 8, 10, 100, 1, 10, 0.5, 0.0, 1.0, Double.NaN);
    }

    public EvalSettings withEstimator(int k, double lambda, double tau, double p) {
      return new EvalSettings(users, remapped, perRemapped, otherFeedback, seed, k, lambda, tau, p, promptThreshold);
    }

    public EvalSettings withPromptThreshold(double threshold) {
      return new EvalSettings(users, remapped, perRemapped, otherFeedback, seed, k, lambda, tau, p, threshold);
    }

    public DiscrepancyEstimator estimator() {
      return new KnnDiscrepancyEstimator(k, lambda, tau, p);
    }
  }

  /** Hits out of n. */
  public record Accuracy(long hits, long n) {
    public double rate() {
      return n == 0 ? 0 : hits / (double) n;
    }

    Accuracy plus(boolean hit) {
      return new Accuracy(hits + (hit ? 1 : 0), n + 1);
    }
  }

  /** One method's accuracy against the users' labels: all eval rows, rows of remapped intents, the others. */
  public record Scores(Accuracy overall, Accuracy remapped, Accuracy unaffected) {
    static final Scores ZERO = new Scores(new Accuracy(0, 0), new Accuracy(0, 0), new Accuracy(0, 0));

    Scores plus(boolean hit, boolean isRemapped) {
      return new Scores(overall.plus(hit), isRemapped ? remapped.plus(hit) : remapped, isRemapped ? unaffected : unaffected.plus(hit));
    }
  }

  /**
   * One dataset's outcome.
   *
   * @param promptThreshold the prompt-only threshold used (tuned on train unless fixed in the settings)
   */
  public record Result(String dataset, EvalSettings settings, int trainRows, int evalRows, int feedbackPerUser,
                       double baseTrueAccuracy, double promptThreshold, Scores base, Scores promptOnly, Scores cm) {
  }

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: CmEvaluation <clinc150|banking77> <data file> [<kind> <file> ...] [--users N] [--remapped N]"
          + " [--per-remapped N] [--other N] [--seed N]\n  e.g. clinc150 ../shared/datasets/clinc150/data_full_train_val.json"
          + " banking77 ../shared/datasets/banking77/train.csv");
      System.exit(2);
    }
    Map<String, Integer> opts = new HashMap<>(Map.of("--users", 10, "--remapped", 8, "--per-remapped", 10, "--other", 100, "--seed", 1));
    List<String[]> datasets = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith("--")) {
        opts.put(args[i], Integer.parseInt(args[++i]));
      } else {
        datasets.add(new String[] {args[i], args[++i]});
      }
    }
    EvalSettings d = EvalSettings.defaults();
    EvalSettings settings = new EvalSettings(opts.get("--users"), opts.get("--remapped"), opts.get("--per-remapped"),
        opts.get("--other"), opts.get("--seed"), d.k(), d.lambda(), d.tau(), d.p(), d.promptThreshold());
    if (System.getProperty("cm.k") != null) {
      settings = settings.withEstimator(Integer.getInteger("cm.k"), Double.parseDouble(System.getProperty("cm.lambda")),
          Double.parseDouble(System.getProperty("cm.tau")), Double.parseDouble(System.getProperty("cm.p")));
    }
    if (System.getProperty("prompt.threshold") != null) {
      settings = settings.withPromptThreshold(Double.parseDouble(System.getProperty("prompt.threshold")));
    }
    boolean tuneOnTrain = "train".equals(System.getProperty("cm.tune"));
    List<Result> results = new ArrayList<>();
    for (String[] ds : datasets) {
      long started = System.nanoTime();
      IntentDataset data = IntentDataset.load(ds[0], Path.of(ds[1]));
      EvalSettings used = settings;
      if (tuneOnTrain) {
        used = tuneEstimatorOnTrain(data, settings, new TfIdfCentroidClassifier(data.train(), TEMPERATURE, CANDIDATES));
        System.err.printf("%s: estimator picked on train: k=%d, λ=%s, τ=%s, p=%s%n", data.name(), used.k(), used.lambda(),
            used.tau(), used.p());
      }
      results.add(evaluate(data, used));
      System.err.printf("%s: %d train, %d eval rows, %.1f s%n", data.name(), data.train().size(), data.eval().size(),
          (System.nanoTime() - started) / 1e9);
    }
    System.out.println(table(results));
  }

  /** Runs the protocol above on one dataset. Deterministic for given data and settings. */
  public static Result evaluate(IntentDataset data, EvalSettings settings) {
    DiscrepancyEstimator cm = settings.estimator();
    TfIdfCentroidClassifier model = new TfIdfCentroidClassifier(data.train(), TEMPERATURE, CANDIDATES);
    List<String> labels = model.labels();
    // The prompt-only tuning draws from its own generator so that CM's users are the same with or without it.
    double threshold = Double.isNaN(settings.promptThreshold())
        ? tunePromptThreshold(data, settings, model, new Random(settings.seed() * 7919L + 17))
        : settings.promptThreshold();
    Random random = new Random(settings.seed());

    List<Map<String, Double>> evalDist = new ArrayList<>();
    List<float[]> evalEmb = new ArrayList<>();
    long baseTrue = 0;
    for (IntentDataset.Labelled row : data.eval()) {
      Map<String, Double> p = model.distribution(row.text());
      evalDist.add(p);
      evalEmb.add(model.embed(row.text(), EMBEDDING_DIM));
      if (argmax(p).equals(row.label())) {
        baseTrue++;
      }
    }
    Map<String, List<IntentDataset.Labelled>> trainByLabel = byLabel(data.train());

    Scores base = Scores.ZERO;
    Scores prompt = Scores.ZERO;
    Scores personal = Scores.ZERO;
    int feedbackPerUser = 0;
    for (int u = 0; u < settings.users(); u++) {
      Map<String, String> remap = remapping(labels, settings.remapped(), random);
      List<IntentDataset.Labelled> sample = feedbackSample(data, trainByLabel, remap, settings, random);
      MemoryBank bank = bankFromFeedback("user-" + u, sample, remap, model);
      feedbackPerUser = sample.size();
      for (int i = 0; i < data.eval().size(); i++) {
        String truth = data.eval().get(i).label();
        String wanted = remap.getOrDefault(truth, truth);
        boolean isRemapped = remap.containsKey(truth);
        base = base.plus(argmax(evalDist.get(i)).equals(wanted), isRemapped);
        prompt = prompt.plus(PromptOnlyBaseline.retrieve(bank, evalEmb.get(i)).answer(threshold, evalDist.get(i)).equals(wanted),
            isRemapped);
        personal = personal.plus(argmax(cm.marginalize(bank, evalEmb.get(i), evalDist.get(i))).equals(wanted), isRemapped);
      }
    }
    return new Result(data.name(), settings, data.train().size(), data.eval().size(), feedbackPerUser,
        baseTrue / (double) data.eval().size(), threshold, base, prompt, personal);
  }

  /**
   * The prompt-only threshold, picked on TRAIN only: {@code settings.users()} tuning users (own remappings and
   * feedback samples from train, as in the protocol) are probed on up to {@value #TUNING_PROBES} train rows that
   * are not in their feedback; the grid threshold with the best accuracy against their labels wins. The base
   * model was fitted on these rows, so it is more often right on them than on eval rows; the threshold sees
   * the same optimism for every grid value.
   */
  static double tunePromptThreshold(IntentDataset data, EvalSettings settings, TfIdfCentroidClassifier model, Random random) {
    List<PromptOnlyBaseline.Probe> probes = new ArrayList<>();
    for (TuningProbe t : tuningProbes(data, settings, model, random, "tuning-user-")) {
      probes.add(new PromptOnlyBaseline.Probe(PromptOnlyBaseline.retrieve(t.bank(), t.embedding()), t.distribution(), t.wanted()));
    }
    return PromptOnlyBaseline.tuneThreshold(probes);
  }

  /** The grid {@link #tuneEstimatorOnTrain} searches: λ × τ × p at k = 10 (the grid of the original sweep). */
  static final double[] LAMBDA_GRID = {0.05, 0.1, 0.2, 0.5, 1.0};
  static final double[] TAU_GRID = {0.0, 0.1};
  static final double[] P_GRID = {1.0, 2.0};

  /**
   * CM's estimator settings picked on TRAIN only, by the protocol of {@link #tunePromptThreshold}: tuning users
   * (own remappings and feedback from train) are probed on train rows outside their feedback; the grid point with
   * the best accuracy against their labels wins (ties: the earlier grid point). Its own random stream, so the
   * evaluation users are unchanged. {@code -Dcm.tune=train} on the command line.
   */
  public static EvalSettings tuneEstimatorOnTrain(IntentDataset data, EvalSettings settings, TfIdfCentroidClassifier model) {
    List<TuningProbe> probes = tuningProbes(data, settings, model, new Random(settings.seed() * 104729L + 31), "cm-tuning-user-");
    EvalSettings best = settings;
    long bestHits = -1;
    for (double lambda : LAMBDA_GRID) {
      for (double tau : TAU_GRID) {
        for (double p : P_GRID) {
          DiscrepancyEstimator cm = new KnnDiscrepancyEstimator(settings.k(), lambda, tau, p);
          long hits = probes.stream().filter(t -> argmax(cm.marginalize(t.bank(), t.embedding(), t.distribution())).equals(t.wanted()))
              .count();
          if (hits > bestHits) {
            bestHits = hits;
            best = settings.withEstimator(settings.k(), lambda, tau, p);
          }
        }
      }
    }
    return best;
  }

  /** One train row probed for one tuning user: the user's bank, the row's embedding and base distribution, the user's label. */
  private record TuningProbe(MemoryBank bank, float[] embedding, Map<String, Double> distribution, String wanted) {}

  /**
   * {@code settings.users()} tuning users (own remappings and feedback samples from train, as in the protocol), each
   * probed on up to {@value #TUNING_PROBES} train rows that are not in their feedback.
   */
  private static List<TuningProbe> tuningProbes(IntentDataset data, EvalSettings settings, TfIdfCentroidClassifier model, Random random,
                                                String userPrefix) {
    List<IntentDataset.Labelled> pool = new ArrayList<>(data.train());
    Collections.shuffle(pool, random);
    pool = pool.subList(0, Math.min(TUNING_PROBES, pool.size()));
    List<Map<String, Double>> poolDist = new ArrayList<>();
    List<float[]> poolEmb = new ArrayList<>();
    for (IntentDataset.Labelled row : pool) {
      poolDist.add(model.distribution(row.text()));
      poolEmb.add(model.embed(row.text(), EMBEDDING_DIM));
    }
    Map<String, List<IntentDataset.Labelled>> trainByLabel = byLabel(data.train());
    List<TuningProbe> probes = new ArrayList<>();
    for (int u = 0; u < settings.users(); u++) {
      Map<String, String> remap = remapping(model.labels(), settings.remapped(), random);
      List<IntentDataset.Labelled> sample = feedbackSample(data, trainByLabel, remap, settings, random);
      MemoryBank bank = bankFromFeedback(userPrefix + u, sample, remap, model);
      Set<IntentDataset.Labelled> inFeedback = new HashSet<>(sample);   // by value: duplicate texts are not probes either
      for (int i = 0; i < pool.size(); i++) {
        if (inFeedback.contains(pool.get(i))) {
          continue;
        }
        String truth = pool.get(i).label();
        probes.add(new TuningProbe(bank, poolEmb.get(i), poolDist.get(i), remap.getOrDefault(truth, truth)));
      }
    }
    return probes;
  }

  private static Map<String, List<IntentDataset.Labelled>> byLabel(List<IntentDataset.Labelled> rows) {
    Map<String, List<IntentDataset.Labelled>> byLabel = new HashMap<>();
    rows.forEach(r -> byLabel.computeIfAbsent(r.label(), k -> new ArrayList<>()).add(r));
    return byLabel;
  }

  /** {@code perRemapped} train rows of each remapped intent plus {@code otherFeedback} random train rows. */
  private static List<IntentDataset.Labelled> feedbackSample(IntentDataset data, Map<String, List<IntentDataset.Labelled>> trainByLabel,
                                                             Map<String, String> remap, EvalSettings settings, Random random) {
    List<IntentDataset.Labelled> sample = new ArrayList<>();
    for (String a : remap.keySet()) {
      List<IntentDataset.Labelled> pool = new ArrayList<>(trainByLabel.get(a));
      Collections.shuffle(pool, random);
      sample.addAll(pool.subList(0, Math.min(settings.perRemapped(), pool.size())));
    }
    for (int j = 0; j < settings.otherFeedback(); j++) {
      sample.add(data.train().get(random.nextInt(data.train().size())));
    }
    return sample;
  }

  /** {@code count} distinct source intents, each mapped to a different random intent. */
  static Map<String, String> remapping(List<String> labels, int count, Random random) {
    List<String> shuffled = new ArrayList<>(labels);
    Collections.shuffle(shuffled, random);
    Map<String, String> remap = new HashMap<>();
    for (String a : shuffled.subList(0, count)) {
      String b;
      do {
        b = labels.get(random.nextInt(labels.size()));
      } while (b.equals(a));
      remap.put(a, b);
    }
    return remap;
  }

  /** Feedback events → bank, through the topology's own entry and update functions. */
  static MemoryBank bankFromFeedback(String user, List<IntentDataset.Labelled> sample, Map<String, String> remap,
                                     TfIdfCentroidClassifier model) {
    MemoryBank bank = MemoryBankUpdater.empty(user, Instant.EPOCH);
    int n = 0;
    for (IntentDataset.Labelled row : sample) {
      Map<String, Double> p = model.distribution(row.text());
      String served = argmax(p);
      String wanted = remap.getOrDefault(row.label(), row.label());
      List<Float> emb = new ArrayList<>();
      for (float f : model.embed(row.text(), EMBEDDING_DIM)) {
        emb.add(f);
      }
      Instant at = Instant.ofEpochMilli(n++);
      Interaction interaction = Interaction.newBuilder().setInteractionId(user + "-i" + n).setUserId(user).setTimestamp(at)
          .setModel("tfidf-centroid").setPrompt(row.text()).setResponse(served)
          .setCandidates(p.entrySet().stream().map(e -> new Candidate(e.getKey(), e.getValue())).toList())
          .setInstanceEmbedding(emb).build();
      Feedback feedback = Feedback.newBuilder().setFeedbackId(user + "-f" + n).setUserId(user)
          .setInteractionId(interaction.getInteractionId()).setTimestamp(at)
          .setKind(served.equals(wanted) ? FeedbackKind.THUMBS_UP : FeedbackKind.PREFERRED_RESPONSE)
          .setPreferredResponse(served.equals(wanted) ? null : wanted).build();
      Optional<BankEntry> entry = DiscrepancyEntries.fromFeedback(interaction, feedback);
      if (entry.isPresent()) {
        bank = MemoryBankUpdater.apply(bank, entry.get(), 256, at);
      }
    }
    return bank;
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

  /** The three-way Markdown table printed by {@link #main} and quoted in streams/README.md. */
  public static String table(List<Result> results) {
    StringBuilder sb = new StringBuilder();
    sb.append("| dataset | users × remapped intents | feedback/user | base acc (true labels) | base / prompt-only / CM acc (user labels)"
        + " | remapped: base / prompt-only / CM | unaffected: base / prompt-only / CM | prompt-only threshold |\n");
    sb.append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Result r : results) {
      sb.append(String.format("| %s | %d × %d | %d | %.1f%% | %s | %s (n=%d) | %s (n=%d) | %.2f |%n",
          r.dataset(), r.settings().users(), r.settings().remapped(), r.feedbackPerUser(), 100 * r.baseTrueAccuracy(),
          threeWay(r.base().overall(), r.promptOnly().overall(), r.cm().overall()),
          threeWay(r.base().remapped(), r.promptOnly().remapped(), r.cm().remapped()), r.base().remapped().n(),
          threeWay(r.base().unaffected(), r.promptOnly().unaffected(), r.cm().unaffected()), r.base().unaffected().n(),
          r.promptThreshold()));
    }
    return sb.toString();
  }

  private static String threeWay(Accuracy base, Accuracy prompt, Accuracy cm) {
    return String.format("%.1f%% / %.1f%% / **%.1f%%**", 100 * base.rate(), 100 * prompt.rate(), 100 * cm.rate());
  }
}
