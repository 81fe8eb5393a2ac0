package io.marginal.ops.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MarkdownReportTest {

  @TempDir
  Path tmp;

  private record Fixed(String title, String markdown, List<Chart> charts) implements ReportSection {
  }

  private static Chart chart(String name) {
    return new Chart(name, "accuracy | per method", PngChart.bars("acc", "%", List.of("overall", "remapped"),
        List.of(new Series("base", List.of(77.8, 0.0)), new Series("CM", List.of(82.0, 73.7)))));
  }

  @Test
  void writesSectionsInOrderWithChartsBesideTheMarkdownAndLinkedRelatively() throws Exception {
    MarkdownTable table = new MarkdownTable(List.of("method", "accuracy"),
        List.of(List.of("base", "77.8%"), List.of("a|b", "82.0%")));
    MarkdownReport report = new MarkdownReport("Evaluation", List.of("Command: `x`", "Machine: 2 cores"))
        .add(new Fixed("CM personalization", "Intro.\n\n" + table.toMarkdown(), List.of(chart("cm-clinc150.png"))))
        .add(new PendingSection("Unlearning", "Later."));

    Path written = report.write(tmp.resolve("out"));

    assertEquals(tmp.resolve("out").resolve("REPORT.md"), written);
    String md = Files.readString(written);
    assertTrue(md.startsWith("# Evaluation\n\n- Command: `x`\n- Machine: 2 cores\n"), md);
    assertTrue(md.contains("Contents: [CM personalization](#cm-personalization) · [Unlearning](#unlearning)"), md);
    assertTrue(md.indexOf("## CM personalization") < md.indexOf("## Unlearning"), md);
    assertTrue(md.contains("## Unlearning\n\n_Not measured in this report yet._ Later."), md);

    // the chart is referenced by a relative link and exists beside REPORT.md as a real PNG
    Matcher image = Pattern.compile("!\\[([^]]*)]\\(([^)]+)\\)").matcher(md);
    assertTrue(image.find(), md);
    assertEquals("cm-clinc150.png", image.group(2));
    assertEquals("accuracy | per method", image.group(1));
    BufferedImage png = ImageIO.read(written.resolveSibling(image.group(2)).toFile());
    assertEquals(900, png.getWidth());
    assertEquals(500, png.getHeight());

    // the table: header, separator and rows all have the same number of (unescaped) cells
    List<String> tableLines = md.lines().filter(l -> l.startsWith("|")).toList();
    assertEquals(4, tableLines.size(), md);
    assertEquals("| method | accuracy |", tableLines.get(0));
    assertEquals("| --- | --- |", tableLines.get(1));
    assertEquals("| a\\|b | 82.0% |", tableLines.get(3));
    for (String line : tableLines) {
      assertEquals(3, line.split("(?<!\\\\)\\|", -1).length - 1, line);   // unescaped pipes: 2 columns
    }
  }

  @Test
  void refusesMalformedTablesAndChartNames() {
    IllegalArgumentException row = assertThrows(IllegalArgumentException.class,
        () -> new MarkdownTable(List.of("a", "b"), List.of(List.of("1"))));
    assertEquals("table row 1 has 1 cells for 2 columns [a, b]", row.getMessage());
    assertThrows(IllegalArgumentException.class, () -> chart("../escape.png"));
    assertThrows(IllegalArgumentException.class, () -> chart("chart.svg"));

    MarkdownReport twice = new MarkdownReport("t", List.of())
        .add(new Fixed("one", "", List.of(chart("same.png"))))
        .add(new Fixed("two", "", List.of(chart("same.png"))));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> twice.write(tmp));
    assertEquals("two charts are named same.png (section 'two'); give each chart its own file name", e.getMessage());
  }

  @Test
  void anchorsFollowGithubHeadingRules() {
    assertEquals("cm-personalization", MarkdownReport.anchor("CM personalization"));
    assertEquals("unlearning-masked-vs-unmasked", MarkdownReport.anchor("Unlearning: masked vs. unmasked"));
  }
}
