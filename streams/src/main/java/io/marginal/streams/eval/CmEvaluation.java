package io.marginal.streams.eval;

import io.marginal.schemas.BankEntry;
import io.marginal.schemas.Candidate;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.FeedbackKind;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.streams.bank.DiscrepancyEntries;
import io.marginal.streams.bank.MemoryBankUpdater;
import io.marginal.streams.cm.DiscrepancyEstimator;
import io.marginal.streams.cm.KnnDiscrepancyEstimator;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * CM accuracy with simulated users: base model vs. base model marginalised through each user's bank.
 *
 * <p>Usage: {@code CmEvaluation <clinc150|banking77> <data file> [users=10] [remapped=8] [feedbackPerRemapped=10]
 * [otherFeedback=100] [seed=1]}. Several {@code <kind> <file>} pairs may be given; one Markdown table is printed.
 *
 * <p>Protocol. Base model: {@link TfIdfCentroidClassifier} trained on the train split, top-10 candidates.
 * Each simulated user remaps {@code remapped} random intents to other random intents (their preferred label
 * for an instance of intent a is remap(a), else a). The user gives feedback on a sample of TRAIN examples
 * ({@code feedbackPerRemapped} per remapped intent plus {@code otherFeedback} others): the model serves its
 * argmax r; if r equals the user's label it is THUMBS_UP, else PREFERRED_RESPONSE with the user's label.
 * The bank is built through the same {@link DiscrepancyEntries}/{@link MemoryBankUpdater} code as the
 * topology. Evaluation is on the eval split (CLINC150 val; BANKING77 held-out 20%): accuracy against the
 * user's labels, overall, on remapped intents only, and on unaffected intents (no-harm check).
 */
public final class CmEvaluation {

  static final int EMBEDDING_DIM = 256;
  static final int CANDIDATES = 10;
  static final double TEMPERATURE = 0.05;

  private CmEvaluation() {
  }

  /** Accuracy counters for one dataset. */
  record Result(String dataset, int users, int remapped, int feedback, long n, long nRemapped,
                long baseHits, long cmHits, long baseRemapHits, long cmRemapHits, long baseOtherHits, long cmOtherHits,
                double baseTrueAccuracy) {
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
    KnnDiscrepancyEstimator defaults = KnnDiscrepancyEstimator.defaults();
    DiscrepancyEstimator cm = System.getProperty("cm.k") == null ? defaults : new KnnDiscrepancyEstimator(
        Integer.getInteger("cm.k"), Double.parseDouble(System.getProperty("cm.lambda")),
        Double.parseDouble(System.getProperty("cm.tau")), Double.parseDouble(System.getProperty("cm.p")));
    List<Result> results = new ArrayList<>();
    for (String[] d : datasets) {
      long started = System.nanoTime();
      IntentDataset data = IntentDataset.load(d[0], Path.of(d[1]));
      results.add(evaluate(data, cm, opts.get("--users"), opts.get("--remapped"), opts.get("--per-remapped"),
          opts.get("--other"), opts.get("--seed")));
      System.err.printf("%s: %d train, %d eval rows, %.1f s%n", data.name(), data.train().size(), data.eval().size(),
          (System.nanoTime() - started) / 1e9);
    }
    System.out.println(table(results));
  }

  static Result evaluate(IntentDataset data, DiscrepancyEstimator cm, int users, int remapped, int perRemapped,
                         int otherFeedback, int seed) {
    TfIdfCentroidClassifier model = new TfIdfCentroidClassifier(data.train(), TEMPERATURE, CANDIDATES);
    List<String> labels = model.labels();
    Random random = new Random(seed);

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
    Map<String, List<IntentDataset.Labelled>> trainByLabel = new HashMap<>();
    data.train().forEach(r -> trainByLabel.computeIfAbsent(r.label(), k -> new ArrayList<>()).add(r));

    long n = 0, nRemap = 0, baseHits = 0, cmHits = 0, baseRemap = 0, cmRemap = 0, baseOther = 0, cmOther = 0;
    int feedbackPerUser = 0;
    for (int u = 0; u < users; u++) {
      Map<String, String> remap = remapping(labels, remapped, random);
      List<IntentDataset.Labelled> sample = new ArrayList<>();
      for (String a : remap.keySet()) {
        List<IntentDataset.Labelled> pool = new ArrayList<>(trainByLabel.get(a));
        Collections.shuffle(pool, random);
        sample.addAll(pool.subList(0, Math.min(perRemapped, pool.size())));
      }
      for (int j = 0; j < otherFeedback; j++) {
        sample.add(data.train().get(random.nextInt(data.train().size())));
      }
      MemoryBank bank = bankFromFeedback("user-" + u, sample, remap, model);
      feedbackPerUser = sample.size();
      for (int i = 0; i < data.eval().size(); i++) {
        String truth = data.eval().get(i).label();
        String wanted = remap.getOrDefault(truth, truth);
        boolean base = argmax(evalDist.get(i)).equals(wanted);
        boolean personal = argmax(cm.marginalize(bank, evalEmb.get(i), evalDist.get(i))).equals(wanted);
        n++;
        baseHits += base ? 1 : 0;
        cmHits += personal ? 1 : 0;
        if (remap.containsKey(truth)) {
          nRemap++;
          baseRemap += base ? 1 : 0;
          cmRemap += personal ? 1 : 0;
        } else {
          baseOther += base ? 1 : 0;
          cmOther += personal ? 1 : 0;
        }
      }
    }
    return new Result(data.name(), users, remapped, feedbackPerUser, n, nRemap, baseHits, cmHits, baseRemap, cmRemap,
        baseOther, cmOther, baseTrue / (double) data.eval().size());
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

  static String table(List<Result> results) {
    StringBuilder sb = new StringBuilder();
    sb.append("| dataset | users × remapped intents | feedback/user | base acc (true labels) | base acc (user labels) | CM acc (user labels) | remapped: base → CM | unaffected: base → CM |\n");
    sb.append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (Result r : results) {
      long nOther = r.n() - r.nRemapped();
      sb.append(String.format("| %s | %d × %d | %d | %.1f%% | %.1f%% | **%.1f%%** | %.1f%% → %.1f%% (n=%d) | %.1f%% → %.1f%% (n=%d) |%n",
          r.dataset(), r.users(), r.remapped(), r.feedback(), 100 * r.baseTrueAccuracy(),
          pct(r.baseHits(), r.n()), pct(r.cmHits(), r.n()),
          pct(r.baseRemapHits(), r.nRemapped()), pct(r.cmRemapHits(), r.nRemapped()), r.nRemapped(),
          pct(r.baseOtherHits(), nOther), pct(r.cmOtherHits(), nOther), nOther));
    }
    return sb.toString();
  }

  private static double pct(long hits, long n) {
    return n == 0 ? 0 : 100.0 * hits / n;
  }
}
