package io.marginal.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.CheckpointException;
import io.marginal.model.LanguageModel;
import io.marginal.model.testing.HfCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint's tokenizer_config.json chat_template and generation_config.json reach the loaded model. */
class ChatFormatLoadingTest {
  @TempDir Path tmp;

  @Test
  void theCheckpointsOwnTemplateAndGenerationConfigAreUsed() throws Exception {
    String template = JinjaChatTemplateTest.settings("smollm2-instruct").chatTemplate().orElseThrow();
    String tokenizerConfig = new ObjectMapper().writeValueAsString(Map.of("chat_template", template,
        "eos_token", "<|im_end|>", "bos_token", "<|im_start|>"));
    Path dir = HfCheckpoint.llama().tokenizerConfig(tokenizerConfig).write(tmp.resolve("m"), 3);
    Files.writeString(dir.resolve("generation_config.json"),
        "{\"bos_token_id\": 1, \"eos_token_id\": [2, 0], \"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9}");
    try (LanguageModel model = LanguageModel.load(dir)) {
      assertInstanceOf(JinjaChatTemplate.class, model.chatTemplate());
      List<ChatMessage> m = List.of(ChatMessage.user("hello there"));
      String text = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
          + "<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n";
      assertEquals(text, model.chatTemplate().render(m, true));
      assertArrayEquals(model.tokenizer().encode(text), model.encodeChat(m));
      // <|im_end|> (2) from the template, then config.json's eos (2) and generation_config.json's 2 and 0.
      assertEquals(List.of(2, 0), model.stopTokenIds());
      assertEquals(0.6, model.generationDefaults().temperature().orElseThrow());
      assertEquals(0.9, model.generationDefaults().topP().orElseThrow());
      assertEquals(true, model.generationDefaults().doSample().orElseThrow());
      assertEquals(io.marginal.model.generate.GenerationRequest.sampling(32, 0.6, 0.9, 7), model.defaultRequest(32, 7));
      // Raw text gets no BOS: no add_bos_token and no post-processor (bos_token alone does not add one).
      assertTrue(model.tokenizer().bosTokenId().isEmpty());
    }
  }

  @Test
  void withoutATemplateTheBuiltInFormatIsUsedAndEndOfSequenceAloneIsNotInst() throws Exception {
    Path dir = tmp.resolve("plain");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("tokenizer.json"), """
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [{"id": 0, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false,
                           "normalized": false, "special": true},
                          {"id": 1, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
                           "normalized": false, "special": true}],
         "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null, "decoder": null,
         "model": {"type": "WordLevel", "vocab": {"</s>": 0, "<unk>": 1, "hello": 2}, "unk_token": "<unk>"}}""");
    try (TextTokenizer t = TextTokenizer.load(dir)) {
      assertEquals(ChatTemplate.PLAIN, ChatFormats.forTokenizer(t));
    }
    Path chatml = HfCheckpoint.llama().write(tmp.resolve("chatml"), 1);
    try (TextTokenizer t = TextTokenizer.load(chatml)) {
      assertEquals(ChatTemplate.CHATML, ChatFormats.forTokenizer(t));
    }
    try (LanguageModel model = LanguageModel.load(chatml)) {
      assertEquals(io.marginal.model.generate.GenerationRequest.greedy(16), model.defaultRequest(16, 3));
      assertEquals(List.of(2, 0), model.stopTokenIds()); // CHATML: <|im_end|>, <|endoftext|>; eos 2 already in
    }
  }

  @Test
  void aBrokenTemplateIsRefusedAtLoad() throws Exception {
    Path dir = HfCheckpoint.llama().tokenizerConfig("{\"chat_template\": \"{% for m in messages %}{{ m.content \"}")
        .write(tmp.resolve("broken"), 1);
    String msg = assertThrows(CheckpointException.class, () -> LanguageModel.load(dir)).getMessage();
    assertTrue(msg.contains("chat_template cannot be rendered"), msg);
  }
}
