package io.marginal.model.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.marginal.model.transformer.ProjectionAdapter;
import io.marginal.model.weights.Projection;
import io.marginal.model.weights.ProjectionGroup;
import java.util.ArrayList;
import java.util.List;

/**
 * The adapters of a batch step whose token axis is made of segments, each with its own adapter:
 * the running rows (one token each, per-slot {@link SlotLora}), then each newly admitted
 * prompt (all its tokens under its request's set). Each segment's update is computed on its
 * slice of the input and the updates are joined along the token axis (zeros for a segment whose
 * adapter has none), so a prompt's adapter is applied once to its tokens instead of being
 * gathered per token.
 */
public final class SegmentedLora implements ProjectionAdapter {

  /** {@code tokens} consecutive rows of the input under {@code adapter} ({@code null}: none). */
  public record Segment(int tokens, ProjectionAdapter adapter) {}

  private final List<Segment> segments;

  public SegmentedLora(List<Segment> segments) {
    if (segments.isEmpty()) {
      throw new IllegalArgumentException("no segments");
    }
    this.segments = List.copyOf(segments);
  }

  /** Per projection is not how a batch is served: the decode path asks per group ({@link #groupDelta}). */
  @Override
  public NDArray delta(int layer, Projection projection, NDArray input, boolean training) {
    throw new UnsupportedOperationException("a batch's LoRA is applied per projection group");
  }

  @Override
  public NDArray groupDelta(int layer, ProjectionGroup group, NDArray input, long[] widths) {
    if (segments.size() == 1) {
      ProjectionAdapter only = segments.get(0).adapter();
      return only == null ? null : only.groupDelta(layer, group, input, widths);
    }
    List<NDArray> parts = new ArrayList<>(segments.size());
    boolean any = false;
    long offset = 0;
    for (Segment s : segments) {
      NDArray d = s.adapter() == null ? null
          : s.adapter().groupDelta(layer, group, input.get(new NDIndex("{}:{}", offset, offset + s.tokens())), widths);
      parts.add(d);
      any |= d != null;
      offset += s.tokens();
    }
    if (!any) {
      return null;
    }
    Shape shape = input.getShape();
    long width = 0;
    for (long w : widths) {
      width += w;
    }
    NDList all = new NDList();
    for (int i = 0; i < parts.size(); i++) {
      NDArray d = parts.get(i);
      if (d == null) {
        Shape zero = new Shape(segments.get(i).tokens()).addAll(shape.slice(1, shape.dimension() - 1)).add(width);
        d = input.getManager().zeros(zero, input.getDataType());
      }
      all.add(d);
    }
    return NDArrays.concat(all, 0);
  }
}
