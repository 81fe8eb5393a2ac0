package io.marginal.ops.report;

import java.util.ArrayList;
import java.util.List;

/** A GitHub-flavoured Markdown table; every row has as many cells as the header, and '|' in a cell is escaped. */
public record MarkdownTable(List<String> header, List<List<String>> rows) {

  public MarkdownTable {
    header = List.copyOf(header);
    if (header.isEmpty()) {
      throw new IllegalArgumentException("a table needs at least one column");
    }
    List<List<String>> copy = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      if (rows.get(i).size() != header.size()) {
        throw new IllegalArgumentException("table row " + (i + 1) + " has " + rows.get(i).size() + " cells for "
            + header.size() + " columns " + header);
      }
      copy.add(List.copyOf(rows.get(i)));
    }
    rows = List.copyOf(copy);
  }

  public String toMarkdown() {
    StringBuilder sb = new StringBuilder();
    line(sb, header);
    line(sb, header.stream().map(h -> "---").toList());
    rows.forEach(r -> line(sb, r));
    return sb.toString();
  }

  private static void line(StringBuilder sb, List<String> cells) {
    sb.append('|');
    for (String c : cells) {
      sb.append(' ').append(c.replace("|", "\\|").replace("\n", " ")).append(" |");
    }
    sb.append('\n');
  }
}
