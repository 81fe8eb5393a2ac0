package io.marginal.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real checkpoints' tokenizer_config.json chat templates (Qwen2.5-Instruct, Llama-3-Instruct,
 * Llama-2-chat, Mistral-Instruct v0.2, SmolLM2-Instruct), rendered to what transformers'
 * {@code apply_chat_template(..., tokenize=False)} gives.
 */
class JinjaChatTemplateTest {
  private static final List<ChatMessage> ONE = List.of(ChatMessage.user("hi"));
  private static final List<ChatMessage> DIALOGUE = List.of(ChatMessage.system("Be brief."), ChatMessage.user("hi"),
      ChatMessage.assistant("hello"), ChatMessage.user("bye"));

  static TokenizerSettings settings(String name) {
    try (InputStream in = JinjaChatTemplateTest.class.getResourceAsStream("templates/" + name + ".tokenizer_config.json")) {
      return TokenizerSettings.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static JinjaChatTemplate template(String name) {
    TokenizerSettings s = settings(name);
    return JinjaChatTemplate.compile(s.chatTemplate().orElseThrow(), s);
  }

  @Test
  void qwen25AddsItsDefaultSystemPrompt() {
    JinjaChatTemplate t = template("qwen2.5-instruct");
    assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        + "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", t.render(ONE, true));
    assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
        + "<|im_start|>assistant\nhello<|im_end|>\n<|im_start|>user\nbye<|im_end|>\n", t.render(DIALOGUE, false));
    assertEquals(List.of("<|im_end|>"), t.endOfTurnTokens());
  }

  @Test
  void llama3WritesBosAndTrimsContent() {
    JinjaChatTemplate t = template("llama-3-instruct");
    List<ChatMessage> m = List.of(ChatMessage.system("Be brief."), ChatMessage.user("  hi \n"));
    assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        + "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        t.render(m, true));
    assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", t.render(ONE, false));
    assertEquals(List.of("<|eot_id|>"), t.endOfTurnTokens());
  }

  @Test
  void llama2PutsTheSystemPromptInASysBlockAndRaisesOnBadRoles() {
    JinjaChatTemplate t = template("llama-2-chat");
    assertEquals("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nhi [/INST] hello </s><s>[INST] bye [/INST]",
        t.render(DIALOGUE, true));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
    assertTrue(e.getMessage().contains("Conversation roles must alternate user/assistant/user/assistant/..."), e.getMessage());
    assertEquals(List.of("</s>"), t.endOfTurnTokens());
  }

  @Test
  void mistralRefusesASystemMessage() {
    JinjaChatTemplate t = template("mistral-instruct-v0.2");
    assertEquals("<s>[INST] hi [/INST]hello</s>[INST] bye [/INST]", t.render(DIALOGUE.subList(1, 4), true));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.render(DIALOGUE, true));
    assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
  }

  @Test
  void smolLm2AddsItsSystemPrompt() {
    assertEquals("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        + "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", template("smollm2-instruct").render(ONE, true));
  }

  @Test
  void messageTextIsNeverInterpretedAsJinja() {
    String content = "{{ 7 * 7 }} {% if true %}x{% endif %} {{ raise_exception('boom') }}";
    assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n" + content + "<|im_end|>\n",
        template("qwen2.5-instruct").render(List.of(ChatMessage.system("Be brief."), ChatMessage.user(content)), false));
  }

  @Test
  void aTemplateThatCannotRenderIsRefusedAtLoad() {
    TokenizerSettings s = settings("llama-3-instruct");
    var e = assertThrows(io.marginal.model.CheckpointException.class,
        () -> JinjaChatTemplate.compile("{{ raise_exception('this model has no chat format') }}", s));
    assertTrue(e.getMessage().contains("this model has no chat format") && e.getMessage().contains("remove chat_template"),
        e.getMessage());
  }
}
