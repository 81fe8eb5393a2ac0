package io.marginal.ops.eval.cm;

import java.util.List;
import java.util.Map;

/**
 * A simulated user: which label it wants for an instance, and which train rows it gave feedback on.
 *
 * @param id       the user id (also the feedback id prefix)
 * @param remap    intents the user relabels (source → preferred); empty for a user whose preference is the gold label
 * @param anchors  per remapped intent, an optional anchor: the remap applies only to instances at least as similar to
 *                 the anchor as its threshold (instance-dependent preference); intents without one are remapped whole
 * @param feedback indexes of the train rows the user gave feedback on, in the order given
 */
public record SimulatedUser(String id, Map<String, String> remap, Map<String, Anchor> anchors, List<Integer> feedback) {

  /** The remap applies where {@code cos(x, embedding) >= threshold}. */
  public record Anchor(float[] embedding, double threshold) {
    boolean covers(float[] x) {
      return EmbeddingSimilarity.cosine(x, embedding) >= threshold;
    }
  }

  public SimulatedUser {
    remap = Map.copyOf(remap);
    anchors = Map.copyOf(anchors);
    feedback = List.copyOf(feedback);
  }

  /** The label this user wants for an instance of gold label {@code label} with embedding {@code x}. */
  public String preferred(String label, float[] x) {
    String target = remap.get(label);
    if (target == null) {
      return label;
    }
    Anchor anchor = anchors.get(label);
    return anchor == null || anchor.covers(x) ? target : label;
  }

  /** The row's group for this user (never {@link RowGroup#OVERALL}). */
  public RowGroup group(String label, float[] x) {
    if (!remap.containsKey(label)) {
      return RowGroup.UNAFFECTED;
    }
    return preferred(label, x).equals(label) ? RowGroup.KEPT : RowGroup.CHANGED;
  }
}
