package io.marginal.ops.report;

import java.util.List;

/**
 * One section of an evaluation report: a title, a Markdown body, and the charts that go with it.
 * {@link MarkdownReport} writes each chart as a PNG next to REPORT.md and links it under the body,
 * so a section never deals with files.
 */
public interface ReportSection {

  /** The section heading (without '#'). */
  String title();

  /** Markdown body: paragraphs and tables ({@link MarkdownTable}); headings inside it start at '###'. */
  String markdown();

  /** Charts shown after the body, in this order. */
  List<Chart> charts();
}
