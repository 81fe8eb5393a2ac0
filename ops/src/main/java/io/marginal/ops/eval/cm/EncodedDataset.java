package io.marginal.ops.eval.cm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A dataset seen through the base model: each row with its instance embedding and candidate distribution P(r | x).
 * Eval rows are encoded up front (every protocol reads all of them); train rows on first use (feedback samples and
 * tuning probes touch a fraction of them), then kept, so every protocol and seed shares one encoding.
 */
public final class EncodedDataset {

  static final int EMBEDDING_DIM = 256;
  static final int CANDIDATES = 10;
  static final double TEMPERATURE = 0.05;

  /** A row with what the base model makes of it. */
  public record Instance(IntentDataset.Labelled row, float[] embedding, Map<String, Double> distribution) {
    String label() {
      return row.label();
    }
  }

  private final IntentDataset data;
  private final TfIdfCentroidClassifier model;
  private final Instance[] train;
  private final List<Instance> eval;
  private final Map<String, List<Integer>> trainByLabel = new HashMap<>();

  public EncodedDataset(IntentDataset data) {
    this(data, new TfIdfCentroidClassifier(data.train(), TEMPERATURE, CANDIDATES));
  }

  EncodedDataset(IntentDataset data, TfIdfCentroidClassifier model) {
    this.data = data;
    this.model = model;
    this.train = new Instance[data.train().size()];
    for (int i = 0; i < train.length; i++) {
      trainByLabel.computeIfAbsent(data.train().get(i).label(), k -> new ArrayList<>()).add(i);
    }
    List<Instance> encoded = new ArrayList<>(data.eval().size());
    data.eval().forEach(row -> encoded.add(encode(row)));
    this.eval = List.copyOf(encoded);
  }

  public String name() {
    return data.name();
  }

  IntentDataset data() {
    return data;
  }

  TfIdfCentroidClassifier model() {
    return model;
  }

  List<String> labels() {
    return model.labels();
  }

  int trainSize() {
    return train.length;
  }

  Instance train(int index) {
    Instance i = train[index];
    if (i == null) {
      i = encode(data.train().get(index));
      train[index] = i;
    }
    return i;
  }

  /** Indexes of the train rows with this gold label (empty for a label train does not have). */
  List<Integer> trainIndexesOf(String label) {
    return trainByLabel.getOrDefault(label, List.of());
  }

  List<Instance> eval() {
    return eval;
  }

  private Instance encode(IntentDataset.Labelled row) {
    return new Instance(row, model.embed(row.text(), EMBEDDING_DIM), model.distribution(row.text()));
  }
}
