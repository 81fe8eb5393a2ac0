package io.marginal.model.weights;

import io.marginal.model.config.ModelConfig;
import java.util.List;

/**
 * Projections of a layer that read the same input, computed as one matrix product on the decode
 * path: {@code q|k|v} (the attention input) and {@code gate|up} (the MLP input); {@code o} and
 * {@code down} stand alone. A group's output is its members' outputs side by side, in order.
 */
public enum ProjectionGroup {
  QKV(Projection.Q, Projection.K, Projection.V),
  O(Projection.O),
  GATE_UP(Projection.GATE, Projection.UP),
  DOWN(Projection.DOWN);

  private final List<Projection> members;

  ProjectionGroup(Projection... members) {
    this.members = List.of(members);
  }

  public List<Projection> members() {
    return members;
  }

  /** The group {@code p} belongs to. */
  public static ProjectionGroup of(Projection p) {
    return switch (p) {
      case Q, K, V -> QKV;
      case O -> O;
      case GATE, UP -> GATE_UP;
      case DOWN -> DOWN;
    };
  }

  /** Width of the group's output: the sum of its members' output widths. */
  public long outFeatures(ModelConfig c) {
    return members.stream().mapToLong(p -> p.outFeatures(c)).sum();
  }

  /** Column where {@code p}'s output starts in the group's output. */
  public long offset(Projection p, ModelConfig c) {
    long offset = 0;
    for (Projection m : members) {
      if (m == p) {
        return offset;
      }
      offset += m.outFeatures(c);
    }
    throw new IllegalArgumentException(p + " is not in " + this);
  }
}
