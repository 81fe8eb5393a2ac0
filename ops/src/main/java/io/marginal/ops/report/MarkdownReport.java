package io.marginal.ops.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Assembles {@link ReportSection}s into one Markdown document, {@code REPORT.md}, with the PNG charts
 * written beside it and linked by relative path (so the folder can be committed or moved as a whole).
 * The header records how the report was made: the command, the date and the machine.
 */
public final class MarkdownReport {

  public static final String FILE_NAME = "REPORT.md";

  private final String title;
  private final List<String> provenance;
  private final List<ReportSection> sections = new ArrayList<>();

  /**
   * @param provenance lines shown under the title as a list ("Command: …", "Date: …", "Machine: …")
   */
  public MarkdownReport(String title, List<String> provenance) {
    this.title = title;
    this.provenance = List.copyOf(provenance);
  }

  /** Appends a section; sections appear in the order added, each listed in the contents. */
  public MarkdownReport add(ReportSection section) {
    sections.add(section);
    return this;
  }

  public List<ReportSection> sections() {
    return List.copyOf(sections);
  }

  /** The Markdown text (charts referenced by file name, not yet written). */
  public String toMarkdown() {
    requireDistinctChartNames();
    StringBuilder sb = new StringBuilder();
    sb.append("# ").append(title).append("\n\n");
    provenance.forEach(line -> sb.append("- ").append(line).append('\n'));
    sb.append('\n');
    if (sections.size() > 1) {
      sb.append("Contents: ");
      for (int i = 0; i < sections.size(); i++) {
        String t = sections.get(i).title();
        sb.append(i == 0 ? "" : " · ").append('[').append(t).append("](#").append(anchor(t)).append(')');
      }
      sb.append("\n\n");
    }
    for (ReportSection s : sections) {
      sb.append("## ").append(s.title()).append("\n\n");
      sb.append(s.markdown().strip()).append("\n\n");
      for (Chart c : s.charts()) {
        sb.append("![").append(c.caption().replace("]", ")")).append("](").append(c.fileName()).append(")\n\n");
      }
    }
    return sb.toString().stripTrailing() + "\n";
  }

  /** Writes REPORT.md and every chart into {@code dir} (created if needed); returns the REPORT.md path. */
  public Path write(Path dir) {
    String markdown = toMarkdown();
    try {
      Files.createDirectories(dir);
      for (ReportSection s : sections) {
        for (Chart c : s.charts()) {
          PngChart.write(c.image(), dir.resolve(c.fileName()));
        }
      }
      Path report = dir.resolve(FILE_NAME);
      Files.writeString(report, markdown, StandardCharsets.UTF_8);
      return report;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report into " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
    }
  }

  /** GitHub's heading anchor: lower case, punctuation dropped, spaces to '-'. */
  static String anchor(String heading) {
    return heading.toLowerCase().replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
  }

  private void requireDistinctChartNames() {
    Set<String> seen = new HashSet<>();
    for (ReportSection s : sections) {
      for (Chart c : s.charts()) {
        if (!seen.add(c.fileName())) {
          throw new IllegalStateException("two charts are named " + c.fileName() + " (section '" + s.title()
              + "'); give each chart its own file name");
        }
      }
    }
  }
}
