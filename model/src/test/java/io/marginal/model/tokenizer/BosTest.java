package io.marginal.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.CheckpointException;
import io.marginal.model.LanguageModel;
import io.marginal.model.generate.GenerationRequest;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.scoring.Continuation;
import io.marginal.model.testing.HfCheckpoint;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Raw-text paths start with BOS exactly when transformers' {@code tokenizer(text)} would add it. */
class BosTest {
  private static final String PROMPT = "recommend me a sci-fi film";

  @TempDir Path tmp;

  @Test
  void postProcessorBosReachesEveryRawTextPath() {
    Path dir = HfCheckpoint.llama().bosToken(true).write(tmp.resolve("pp"), 5);
    try (LanguageModel model = LanguageModel.load(dir)) {
      TextTokenizer t = model.tokenizer();
      int bos = t.tokenId("<s>").getAsInt();
      int[] plain = t.encode(PROMPT);
      int[] withBos = t.encodeText(PROMPT);
      assertEquals(bos, withBos[0]);
      assertArrayEquals(plain, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));

      Continuation c = model.continuation(PROMPT, "You should watch Inception .");
      assertArrayEquals(withBos, c.prompt());
      assertArrayEquals(t.encode("You should watch Inception ."), c.continuation());
      double expected = model.logProbs(List.of(new Continuation(withBos, c.continuation())), ActiveAdapters.NONE)[0];
      double without = model.logProbs(List.of(new Continuation(plain, c.continuation())), ActiveAdapters.NONE)[0];
      assertEquals(expected, model.logProb(PROMPT, "You should watch Inception .", ActiveAdapters.NONE), 1e-9);
      assertTrue(Math.abs(expected - without) > 1e-3, "BOS changes the score in this model");

      assertArrayEquals(withBos, model.hiddenStates(PROMPT, ActiveAdapters.NONE).tokens());
      assertEquals(withBos.length, model.complete(PROMPT, GenerationRequest.greedy(2), ActiveAdapters.NONE, null).promptTokens());
      assertTrue(model.embed(PROMPT).length > 0);
    }
  }

  @Test
  void llama3StylePostProcessorSequenceAddsBos() {
    Path dir = HfCheckpoint.llama().bosTokenInPostProcessorSequence().write(tmp.resolve("seq"), 5);
    try (TextTokenizer t = TextTokenizer.load(dir)) {
      assertEquals(t.tokenId("<s>").getAsInt(), t.bosTokenId().orElseThrow());
      assertArrayEquals(t.encode(PROMPT), java.util.Arrays.copyOfRange(t.encodeText(PROMPT), 1, t.encodeText(PROMPT).length));
    }
  }

  @Test
  void addBosTokenInTokenizerConfigWinsOverThePostProcessor() {
    Path off = HfCheckpoint.llama().bosToken(true).tokenizerConfig("{\"add_bos_token\": false, \"bos_token\": \"<s>\"}")
        .write(tmp.resolve("off"), 5);
    try (TextTokenizer t = TextTokenizer.load(off)) {
      assertArrayEquals(t.encode(PROMPT), t.encodeText(PROMPT));
      assertTrue(t.bosTokenId().isEmpty());
    }
    Path on = HfCheckpoint.llama().bosToken(false).tokenizerConfig(
        "{\"add_bos_token\": true, \"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<s>\", \"special\": true}}")
        .write(tmp.resolve("on"), 5);
    try (TextTokenizer t = TextTokenizer.load(on)) {
      assertEquals(t.tokenId("<s>").getAsInt(), t.encodeText(PROMPT)[0]);
      assertEquals(t.encode(PROMPT).length + 1, t.encodeText(PROMPT).length);
    }
  }

  @Test
  void noPostProcessorAndNoConfigMeansNoBos() {
    Path dir = HfCheckpoint.llama().bosToken(false).write(tmp.resolve("none"), 5);
    try (TextTokenizer t = TextTokenizer.load(dir)) {
      assertTrue(t.bosTokenId().isEmpty());
      assertArrayEquals(t.encode(PROMPT), t.encodeText(PROMPT));
    }
  }

  @Test
  void anUnknownBosTokenIsRefusedByName() {
    Path dir = HfCheckpoint.llama().tokenizerConfig("{\"add_bos_token\": true, \"bos_token\": \"<bos>\"}")
        .write(tmp.resolve("bad"), 5);
    String msg = assertThrows(CheckpointException.class, () -> TextTokenizer.load(dir)).getMessage();
    assertTrue(msg.contains("bos_token '<bos>' is not in tokenizer.json"), msg);
  }
}
