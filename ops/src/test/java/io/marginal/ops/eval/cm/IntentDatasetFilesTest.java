package io.marginal.ops.eval.cm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --train FILE --eval FILE: nothing is re-split. */
class IntentDatasetFilesTest {

  @TempDir
  Path dir;

  @Test
  void bankingTrainAndEvalFilesAreTakenWhole() throws IOException {
    Path train = Files.writeString(dir.resolve("train.csv"), "text,category\n" + "a b,x\n".repeat(10));
    Path eval = Files.writeString(dir.resolve("test.csv"), "text,category\nc d,y\n\"e, f\",z\n");
    IntentDataset data = IntentDataset.load("banking77", train, eval);
    assertEquals(10, data.train().size());
    assertEquals(2, data.eval().size());
    assertEquals(new IntentDataset.Labelled("e, f", "z"), data.eval().get(1));
    assertEquals(8, IntentDataset.load("banking77", train).train().size(), "one file is still split 80/20");
  }

  @Test
  void clincEvalFileUsesItsTestSplitElseVal() throws IOException {
    Path train = Files.writeString(dir.resolve("train.json"), "{\"train\": [[\"t1\", \"a\"], [\"t2\", \"b\"]], \"val\": [[\"v\", \"a\"]]}");
    Path withTest = Files.writeString(dir.resolve("full.json"), "{\"val\": [[\"v\", \"a\"]], \"test\": [[\"s1\", \"a\"], [\"s2\", \"b\"]]}");
    IntentDataset data = IntentDataset.load("clinc150", train, withTest);
    assertEquals(2, data.train().size());
    assertEquals(new IntentDataset.Labelled("s2", "b"), data.eval().get(1));
    assertEquals(1, IntentDataset.load("clinc150", train, train).eval().size());
  }
}
