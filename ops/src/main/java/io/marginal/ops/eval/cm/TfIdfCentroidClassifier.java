package io.marginal.ops.eval.cm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The documented stand-in base model until the model module serves intent distributions: TF-IDF
 * (sublinear tf, smoothed idf, word uni+bigrams) nearest-centroid classifier trained on the train split.
 * P(r | x) = softmax(cos(x, centroid_r) / temperature) over all intents, then the top {@code candidates}
 * renormalised — the candidate set a served interaction carries.
 */
final class TfIdfCentroidClassifier {

  private final Map<String, Double> idf = new HashMap<>();
  private final Map<String, Map<String, Double>> centroids = new TreeMap<>();
  private final double temperature;
  private final int candidates;

  TfIdfCentroidClassifier(List<IntentDataset.Labelled> train, double temperature, int candidates) {
    this.temperature = temperature;
    this.candidates = candidates;
    Map<String, Integer> df = new HashMap<>();
    List<Map<String, Integer>> docs = new ArrayList<>();
    for (IntentDataset.Labelled row : train) {
      Map<String, Integer> c = TextFeatures.counts(row.text());
      docs.add(c);
      c.keySet().forEach(t -> df.merge(t, 1, Integer::sum));
    }
    double n = train.size();
    df.forEach((t, d) -> idf.put(t, Math.log((1 + n) / (1 + d)) + 1));
    for (int i = 0; i < train.size(); i++) {
      Map<String, Double> v = vector(docs.get(i));
      Map<String, Double> centroid = centroids.computeIfAbsent(train.get(i).label(), k -> new HashMap<>());
      v.forEach((t, w) -> centroid.merge(t, w, Double::sum));
    }
    centroids.values().forEach(TfIdfCentroidClassifier::normalise);
  }

  List<String> labels() {
    return new ArrayList<>(centroids.keySet());
  }

  /** The candidate distribution, most probable first. */
  Map<String, Double> distribution(String text) {
    Map<String, Double> x = vector(TextFeatures.counts(text));
    List<Map.Entry<String, Double>> scores = new ArrayList<>();
    for (Map.Entry<String, Map<String, Double>> c : centroids.entrySet()) {
      double dot = 0;
      for (Map.Entry<String, Double> t : x.entrySet()) {
        Double w = c.getValue().get(t.getKey());
        if (w != null) {
          dot += w * t.getValue();
        }
      }
      scores.add(Map.entry(c.getKey(), dot / temperature));
    }
    scores.sort((a, b) -> Double.compare(b.getValue(), a.getValue()));
    List<Map.Entry<String, Double>> top = scores.subList(0, Math.min(candidates, scores.size()));
    double max = top.get(0).getValue();
    double z = 0;
    for (Map.Entry<String, Double> s : top) {
      z += Math.exp(s.getValue() - max);
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (Map.Entry<String, Double> s : top) {
      out.put(s.getKey(), Math.exp(s.getValue() - max) / z);
    }
    return out;
  }

  private Map<String, Double> vector(Map<String, Integer> counts) {
    Map<String, Double> v = new HashMap<>();
    counts.forEach((t, c) -> {
      Double w = idf.get(t);
      if (w != null) {
        v.put(t, (1 + Math.log(c)) * w);
      }
    });
    normalise(v);
    return v;
  }

  private static void normalise(Map<String, Double> v) {
    double norm = Math.sqrt(v.values().stream().mapToDouble(w -> w * w).sum());
    if (norm > 0) {
      v.replaceAll((t, w) -> w / norm);
    }
  }

  /** Hashed TF-IDF embedding used as the CM instance embedding (fixed dimension, L2-normalised). */
  float[] embed(String text, int dim) {
    float[] e = new float[dim];
    vector(TextFeatures.counts(text)).forEach((t, w) -> {
      int h = t.hashCode() * 0x9E3779B9;
      int bucket = Math.floorMod(h, dim);
      e[bucket] += (float) (((h >>> 31) == 0 ? 1 : -1) * w);
    });
    double norm = 0;
    for (float f : e) {
      norm += f * f;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) {
      for (int i = 0; i < dim; i++) {
        e[i] /= (float) norm;
      }
    }
    return e;
  }
}
