package io.marginal.model.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.weights.ProjectionGroup;
import java.util.List;
import io.marginal.model.weights.Projection;

/**
 * Adds a low-rank (or any) update to a projection's output. The transformer knows nothing about
 * LoRA; {@code io.marginal.model.lora.ActiveAdapters} implements this.
 */
public interface ProjectionAdapter {
  ProjectionAdapter NONE = (layer, projection, input, training) -> null;

  /** A batch's update of one projection group's stacked output from its input; {@code null} when there is none. */
  @FunctionalInterface
  interface GroupUpdate {
    NDArray apply(int layer, ProjectionGroup group, NDArray input);
  }

  /**
   * An adapter that serves batches only, per projection group ({@link #groupDelta}); asking it per
   * projection is an error.
   */
  static ProjectionAdapter perGroup(GroupUpdate update) {
    return new ProjectionAdapter() {
      @Override
      public NDArray delta(int layer, Projection projection, NDArray input, boolean training) {
        throw new UnsupportedOperationException("a batch's LoRA is applied per projection group");
      }

      @Override
      public NDArray groupDelta(int layer, ProjectionGroup group, NDArray input, long[] widths) {
        return update.apply(layer, group, input);
      }
    };
  }

  /**
   * The update to add to {@code projection}'s output in {@code layer}, computed from the
   * projection's {@code input}, in the input's manager; {@code null} when there is none.
   */
  NDArray delta(int layer, Projection projection, NDArray input, boolean training);

  /**
   * The update to add to {@code group}'s stacked output (its members' outputs side by side,
   * {@code widths} wide each), computed from their common {@code input}; {@code null} when no member
   * has one. By default each member's {@link #delta}, zeros for members without one.
   */
  default NDArray groupDelta(int layer, ProjectionGroup group, NDArray input, long[] widths) {
    List<Projection> members = group.members();
    NDArray[] parts = new NDArray[members.size()];
    boolean any = false;
    for (int i = 0; i < parts.length; i++) {
      parts[i] = delta(layer, members.get(i), input, false);
      any |= parts[i] != null;
    }
    if (!any) {
      return null;
    }
    if (parts.length == 1) {
      return parts[0];
    }
    NDList all = new NDList();
    Shape shape = input.getShape();
    for (int i = 0; i < parts.length; i++) {
      all.add(parts[i] != null ? parts[i]
          : input.getManager().zeros(shape.slice(0, shape.dimension() - 1).add(widths[i]), input.getDataType()));
    }
    return NDArrays.concat(all, -1);
  }
}
