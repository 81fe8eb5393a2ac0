package io.marginal.ops.report;

import java.util.List;

/** One named row of values, one value per category (bar chart) or per x position (line chart). */
public record Series(String name, List<Double> values) {

  public Series {
    values = List.copyOf(values);
  }
}
