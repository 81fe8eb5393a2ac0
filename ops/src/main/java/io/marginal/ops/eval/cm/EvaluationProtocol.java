package io.marginal.ops.eval.cm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * How simulated users are drawn for one seed: what each prefers and which train rows it gives feedback on. Every
 * protocol draws its users from {@code new Random(seed)}, remappings first, so (a), (b) and (d) remap the same
 * intents for the same seed and differ only in what the protocol changes.
 */
public enum EvaluationProtocol {

  /** (a) Each user remaps intents; feedback aimed at them: {@code perRemapped} rows per remapped intent + {@code otherFeedback} random rows. */
  TARGETED("a", "targeted", "users remap random intents; feedback aimed at the remapped intents") {
    @Override
    List<SimulatedUser> users(EncodedDataset data, EvalSettings s, Random random, String prefix) {
      return remappingUsers(data, s, random, prefix, false, false);
    }
  },

  /** (b) As (a), but the same number of feedback rows drawn uniformly from train (without replacement). */
  UNIFORM("b", "uniform", "users remap random intents; the same number of feedback rows drawn uniformly from train") {
    @Override
    List<SimulatedUser> users(EncodedDataset data, EvalSettings s, Random random, String prefix) {
      return remappingUsers(data, s, random, prefix, false, true);
    }
  },

  /** (c) The CM paper's setting: one user per seed whose preference is the gold label; bank = a 1 % uniform sample of train. */
  GOLD_1PCT("c", "gold-1pct", "one user whose preference is the gold label; bank = a 1 % uniform sample of train") {
    @Override
    List<SimulatedUser> users(EncodedDataset data, EvalSettings s, Random random, String prefix) {
      return goldUser(data, 0.01, random, prefix);
    }
  },

  /** (c) As {@link #GOLD_1PCT} with a 5 % sample. */
  GOLD_5PCT("c", "gold-5pct", "one user whose preference is the gold label; bank = a 5 % uniform sample of train") {
    @Override
    List<SimulatedUser> users(EncodedDataset data, EvalSettings s, Random random, String prefix) {
      return goldUser(data, 0.05, random, prefix);
    }
  },

  /**
   * (d) Instance-dependent preferences: as (a), but each remapped intent has an anchor (a random train row of it), and
   * the remap applies only to instances at least as similar to the anchor as the median train row of that intent is,
   * so about half of each remapped intent changes label and half keeps it. Feedback as in (a).
   */
  INSTANCE("d", "instance", "users remap random intents only near a per-intent anchor (about half of each intent); targeted feedback") {
    @Override
    List<SimulatedUser> users(EncodedDataset data, EvalSettings s, Random random, String prefix) {
      return remappingUsers(data, s, random, prefix, true, false);
    }
  };

  private final String letter;
  private final String flag;
  private final String description;

  EvaluationProtocol(String letter, String flag, String description) {
    this.letter = letter;
    this.flag = flag;
    this.description = description;
  }

  /** The letter: a, b, c, d. */
  public String letter() {
    return letter;
  }

  /** The name on the command line ({@code --protocols targeted,uniform,...}). */
  public String flag() {
    return flag;
  }

  public String description() {
    return description;
  }

  /** The users of one seed; {@code random} is that seed's generator. */
  abstract List<SimulatedUser> users(EncodedDataset data, EvalSettings settings, Random random, String prefix);

  /** Protocols by their command-line names, comma-separated; "all" for every one. */
  public static List<EvaluationProtocol> parse(String names) {
    if (names.equals("all")) {
      return List.of(values());
    }
    List<EvaluationProtocol> out = new ArrayList<>();
    for (String name : names.split(",")) {
      String n = name.strip().toLowerCase(Locale.ROOT);
      EvaluationProtocol match = null;
      for (EvaluationProtocol p : values()) {
        if (p.flag.equals(n)) {
          match = p;
        }
      }
      if (match == null) {
        throw new IllegalArgumentException("unknown protocol '" + name + "'; use all or a comma-separated list of "
            + String.join(", ", List.of(values()).stream().map(EvaluationProtocol::flag).toList()));
      }
      out.add(match);
    }
    return out;
  }

  /**
   * {@code s.users()} users who each remap {@code s.remapped()} intents; with {@code anchored}, each remapped intent
   * gets a median anchor (protocol d); feedback uniform over train or targeted at the remapped intents.
   */
  private static List<SimulatedUser> remappingUsers(EncodedDataset data, EvalSettings s, Random random, String prefix, boolean anchored,
                                                    boolean uniform) {
    List<SimulatedUser> users = new ArrayList<>();
    for (int u = 0; u < s.users(); u++) {
      Map<String, String> remap = remapping(data.labels(), s.remapped(), random);
      Map<String, SimulatedUser.Anchor> anchors = new HashMap<>();
      if (anchored) {
        for (String a : new TreeMap<>(remap).keySet()) {
          anchors.put(a, medianAnchor(data, a, random));
        }
      }
      List<Integer> feedback = uniform ? uniformFeedback(data, s.feedbackPerUser(), random) : targetedFeedback(data, remap, s, random);
      users.add(new SimulatedUser(prefix + u, remap, anchors, feedback));
    }
    return users;
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

  /** {@code perRemapped} train rows of each remapped intent plus {@code otherFeedback} random train rows (with replacement). */
  static List<Integer> targetedFeedback(EncodedDataset data, Map<String, String> remap, EvalSettings s, Random random) {
    List<Integer> sample = new ArrayList<>();
    for (String a : remap.keySet()) {
      List<Integer> pool = new ArrayList<>(data.trainIndexesOf(a));
      Collections.shuffle(pool, random);
      sample.addAll(pool.subList(0, Math.min(s.perRemapped(), pool.size())));
    }
    for (int j = 0; j < s.otherFeedback(); j++) {
      sample.add(random.nextInt(data.trainSize()));
    }
    return sample;
  }

  /** {@code n} distinct train rows drawn uniformly. */
  static List<Integer> uniformFeedback(EncodedDataset data, int n, Random random) {
    List<Integer> all = new ArrayList<>(data.trainSize());
    for (int i = 0; i < data.trainSize(); i++) {
      all.add(i);
    }
    Collections.shuffle(all, random);
    return all.subList(0, Math.min(n, all.size()));
  }

  private static List<SimulatedUser> goldUser(EncodedDataset data, double fraction, Random random, String prefix) {
    int n = Math.max(1, (int) Math.round(fraction * data.trainSize()));
    return List.of(new SimulatedUser(prefix + 0, Map.of(), Map.of(), uniformFeedback(data, n, random)));
  }

  /** A random train row of intent a, with the median similarity of a's other train rows to it as threshold. */
  private static SimulatedUser.Anchor medianAnchor(EncodedDataset data, String a, Random random) {
    List<Integer> rows = data.trainIndexesOf(a);
    int anchorIndex = rows.get(random.nextInt(rows.size()));
    float[] anchor = data.train(anchorIndex).embedding();
    List<Double> similarities = new ArrayList<>();
    for (int i : rows) {
      if (i != anchorIndex) {
        similarities.add(EmbeddingSimilarity.cosine(anchor, data.train(i).embedding()));
      }
    }
    Collections.sort(similarities);
    double median = similarities.isEmpty() ? 1.0 : similarities.get(similarities.size() / 2);
    return new SimulatedUser.Anchor(anchor, median);
  }
}
