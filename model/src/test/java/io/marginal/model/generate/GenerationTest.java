package io.marginal.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.marginal.model.LanguageModel;
import io.marginal.model.lora.ActiveAdapters;
import io.marginal.model.testing.TinyModels;
import io.marginal.model.tokenizer.ChatMessage;
import io.marginal.model.tokenizer.ChatTemplate;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationTest {
  @TempDir Path dir;

  @Test
  void samplerIsGreedyAtZeroTemperatureAndSeeded() {
    float[] logits = {0.1f, 2.0f, 1.9f, -1f};
    assertEquals(1, new Sampler(0, 1, 1).sample(logits));
    assertEquals(1, new Sampler(1.0, 0.01, 1).sample(logits)); // nucleus of one token
    int[] a = new int[200];
    int[] b = new int[200];
    Sampler s1 = new Sampler(1.0, 0.9, 42);
    Sampler s2 = new Sampler(1.0, 0.9, 42);
    int[] counts = new int[4];
    for (int i = 0; i < a.length; i++) {
      a[i] = s1.sample(logits);
      b[i] = s2.sample(logits);
      counts[a[i]]++;
    }
    assertArrayEquals(a, b);
    assertEquals(0, counts[3], "top-p 0.9 excludes the least likely token");
    assertTrue(counts[1] > 40 && counts[2] > 40, "both likely tokens get sampled");
  }

  @Test
  void nucleusKeepsSmallestSetReachingTopP() {
    Sampler s = new Sampler(1, 0.7, 0);
    assertArrayEquals(new int[] {2, 0}, s.nucleus(new double[] {0.3, 0.1, 0.5, 0.1}));
  }

  @Test
  void streamingDeltasConcatenateToTextAndStopsApply() {
    try (LanguageModel model = TinyModels.load(dir, false, 31)) {
      int[] prompt = model.tokenizer().encode("hello there");
      StringBuilder streamed = new StringBuilder();
      int[] calls = {0};
      GenerationResult r = model.generate(prompt, GenerationRequest.sampling(20, 0.8, 0.95, 7).withStopTokenIds(List.of()),
          ActiveAdapters.NONE, (id, delta) -> {
            streamed.append(delta);
            calls[0]++;
            return true;
          });
      assertEquals(r.text(), streamed.toString());
      assertEquals(20, r.tokens().length);
      assertEquals(FinishReason.MAX_TOKENS, r.finishReason());
      // Same seed, same output; listener cancel stops early.
      GenerationResult again = model.generate(prompt, GenerationRequest.sampling(20, 0.8, 0.95, 7).withStopTokenIds(List.of()),
          ActiveAdapters.NONE, null);
      assertArrayEquals(r.tokens(), again.tokens());
      GenerationResult cancelled = model.generate(prompt, GenerationRequest.greedy(20).withStopTokenIds(List.of()),
          ActiveAdapters.NONE, (id, delta) -> false);
      assertEquals(FinishReason.CANCELLED, cancelled.finishReason());
      assertEquals(1, cancelled.tokens().length);
      // A stop token: stop at whatever greedy produces third.
      GenerationResult greedy = model.generate(prompt, GenerationRequest.greedy(10).withStopTokenIds(List.of()), ActiveAdapters.NONE, null);
      int third = greedy.tokens()[2];
      int firstIndex = 0;
      while (greedy.tokens()[firstIndex] != third) {
        firstIndex++;
      }
      GenerationResult stopped = model.generate(prompt, GenerationRequest.greedy(10).withStopTokenIds(List.of(third)), ActiveAdapters.NONE, null);
      assertEquals(FinishReason.STOP_TOKEN, stopped.finishReason());
      assertEquals(firstIndex, stopped.tokens().length);
      // A stop string: cut at the text of the second word.
      String word = greedy.text().strip().split("\\s+")[0];
      assertTrue(!word.isEmpty(), "greedy text: '" + greedy.text() + "'");
      GenerationResult cut = model.generate(prompt, GenerationRequest.greedy(10).withStopTokenIds(List.of()).withStopStrings(List.of(word)),
          ActiveAdapters.NONE, null);
      assertEquals(FinishReason.STOP_STRING, cut.finishReason());
      assertTrue(!cut.text().contains(word), cut.text());
    }
  }

  @Test
  void chatTemplatesRender() {
    List<ChatMessage> m = List.of(ChatMessage.system("Be brief."), ChatMessage.user("hi"));
    assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
        ChatTemplate.CHATML.render(m, true));
    assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        + "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        ChatTemplate.LLAMA3.render(m, true));
    assertEquals("<s>[INST] Be brief.\n\nhi [/INST]", ChatTemplate.INST.render(m, true));
  }

  @Test
  void demoTokenizerRoundTripsText() {
    try (LanguageModel model = TinyModels.load(dir, false, 1)) {
      assertEquals(ChatTemplate.CHATML, model.chatTemplate());
      String text = "You should watch Inception.";
      assertEquals(text, model.tokenizer().decode(model.tokenizer().encode(text)));
      int[] chat = model.encodeChat(List.of(ChatMessage.user("hello there")));
      assertEquals(model.tokenizer().tokenId("<|im_start|>").getAsInt(), chat[0]);
      assertEquals(List.of(2, 0), model.stopTokenIds()); // <|im_end|>, <|endoftext|>
    }
  }
}
