package io.marginal.model.lora;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an adapter is for and where it came from; travels in the adapter manifest.
 *
 * @param baseModel the base model it was trained on (name or config hash)
 * @param lineage ids of the data items / events it was trained from (deletions look here)
 * @param metrics evaluation figures, e.g. {@code forget_accuracy}, {@code retain_loss}
 */
public record AdapterMetadata(String baseModel, List<String> lineage, Map<String, Double> metrics) {
  public static final AdapterMetadata EMPTY = new AdapterMetadata("", List.of(), Map.of());

  public AdapterMetadata {
    baseModel = baseModel == null ? "" : baseModel;
    lineage = lineage == null ? List.of() : List.copyOf(lineage);
    metrics = metrics == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(metrics));
  }
}
