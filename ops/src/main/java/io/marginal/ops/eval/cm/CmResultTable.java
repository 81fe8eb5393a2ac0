package io.marginal.ops.eval.cm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One protocol's table: a row per dataset and row group, a column per method, each cell "mean ± half-width" of the
 * accuracy in percent over seeds; the best mean of a row in bold. Printed by {@link CmEvaluation} and laid out by the
 * ops report from {@link #header()} and {@link #rows()}.
 */
public record CmResultTable(EvaluationProtocol protocol, List<ProtocolResult> results) {

  public CmResultTable {
    results = List.copyOf(results);
    if (results.isEmpty() || results.stream().anyMatch(r -> r.protocol() != protocol)) {
      throw new IllegalArgumentException("a table needs at least one result, all of protocol " + protocol);
    }
  }

  public List<String> header() {
    List<String> h = new ArrayList<>(List.of("dataset", "rows", "n per seed"));
    h.addAll(results.get(0).methods());
    return h;
  }

  public List<List<String>> rows() {
    List<List<String>> rows = new ArrayList<>();
    for (ProtocolResult r : results) {
      for (RowGroup g : r.groups()) {
        List<String> row = new ArrayList<>(List.of(r.dataset(), g.title(), String.format(Locale.ROOT, "%.0f", r.rowsPerSeed().get(g))));
        double best = r.methods().stream().mapToDouble(m -> r.accuracy(g, m).mean()).max().orElseThrow();
        for (String m : r.methods()) {
          ConfidenceInterval ci = r.accuracy(g, m);
          String cell = cell(ci);
          row.add(ci.mean() == best ? "**" + cell + "**" : cell);
        }
        rows.add(row);
      }
    }
    return rows;
  }

  /** "73.7 ± 2.1" (percent). */
  public static String cell(ConfidenceInterval ci) {
    return String.format(Locale.ROOT, "%.1f ± %.1f", 100 * ci.mean(), 100 * ci.halfWidth());
  }

  public String toMarkdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("| ").append(String.join(" | ", header())).append(" |\n");
    sb.append("|").append(" --- |".repeat(header().size())).append('\n');
    rows().forEach(r -> sb.append("| ").append(String.join(" | ", r)).append(" |\n"));
    return sb.toString();
  }
}
