package io.marginal.ops.report;

import java.util.List;

/** A section whose measurements are not in the report yet: says so, and what it will contain. */
public record PendingSection(String title, String plannedContent) implements ReportSection {

  @Override
  public String markdown() {
    return "_Not measured in this report yet._ " + plannedContent;
  }

  @Override
  public List<Chart> charts() {
    return List.of();
  }
}
