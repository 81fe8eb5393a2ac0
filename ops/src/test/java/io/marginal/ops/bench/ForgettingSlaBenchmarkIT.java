package io.marginal.ops.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The benchmark at its smallest: two nodes, interaction deletions only, idle then under load. */
class ForgettingSlaBenchmarkIT {

  @Test
  void measuresEveryDataDeletionAndChecksItThroughEveryNode() throws Exception {
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    String table = ForgettingSlaBenchmark.run(SlaSettings.parse(new String[] {
        "--data-deletions", "2", "--concept-deletions", "0", "--chat-clients", "1", "--nodes", "2"}),
        new PrintStream(progress, true, StandardCharsets.UTF_8));
    // 2 deletions x 2 phases: the model answered (1 check), then the data is gone over HTTP on both nodes (2 checks).
    assertTrue(table.contains("12/12 passed"), table);
    assertTrue(table.matches("(?s).*\\| \\(a\\) data unreachable on every node \\| 2 \\| \\d+ ms \\| \\d+ ms \\| 2 \\| \\d+ ms .*"), table);
    assertTrue(table.matches("(?s).*Chat load during phase 2: [1-9]\\d* requests.*, 0 errors.*"), table);
  }
}
