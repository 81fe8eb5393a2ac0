package io.marginal.model.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.marginal.model.CheckpointException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A checkpoint's own Jinja {@code chat_template}, rendered the way transformers'
 * {@code apply_chat_template} does: Jinja with {@code trim_blocks} and {@code lstrip_blocks}, the
 * variables {@code messages} (role/content maps), {@code add_generation_prompt}, the special tokens
 * ({@code bos_token}, {@code eos_token}, {@code unk_token}, {@code pad_token}) and the functions
 * {@code raise_exception(message)} and {@code strftime_now(format)}. The engine is Jinjava; where it
 * differs from Python Jinja (string escapes in literals) the source is adapted before compiling.
 * Thread-safe: every render has its own interpreter.
 */
public final class JinjaChatTemplate implements ChatFormat {
  /** End-of-turn token strings of the common families, in the order they are preferred. */
  private static final List<String> KNOWN_END_OF_TURN = List.of("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>",
      "<|eom_id|>", "<|end_of_text|>", "<|endoftext|>", "</s>");

  private final String source;
  private final Jinjava jinjava;
  private final Map<String, Object> specialTokens;
  private final List<String> endOfTurnTokens;

  private JinjaChatTemplate(String source, TokenizerSettings settings) {
    this.source = source;
    this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        // Message text is data: Jinjava would otherwise evaluate "{{ ... }}" inside a user's message.
        .withNestedInterpretationEnabled(false)
        .withLegacyOverrides(LegacyOverrides.newBuilder()
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .build())
        .build());
    jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", JinjaChatTemplate.class, "raiseException",
        String.class));
    jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now", JinjaChatTemplate.class, "strftimeNow",
        String.class));
    Map<String, Object> tokens = new HashMap<>();
    settings.bosToken().ifPresent(t -> tokens.put("bos_token", t));
    settings.eosToken().ifPresent(t -> tokens.put("eos_token", t));
    settings.unkToken().ifPresent(t -> tokens.put("unk_token", t));
    settings.padToken().ifPresent(t -> tokens.put("pad_token", t));
    this.specialTokens = Map.copyOf(tokens);
    List<String> eot = new ArrayList<>();
    for (String t : KNOWN_END_OF_TURN) {
      if (source.contains(t)) {
        eot.add(t);
      }
    }
    settings.eosToken().filter(t -> !eot.contains(t)).ifPresent(eot::add);
    this.endOfTurnTokens = List.copyOf(eot);
  }

  /**
   * Compiles {@code source} and checks it by rendering a one-message conversation.
   *
   * @throws CheckpointException naming the Jinja error and how to fall back to a built-in format
   */
  public static JinjaChatTemplate compile(String source, TokenizerSettings settings) {
    JinjaChatTemplate template = new JinjaChatTemplate(source, settings);
    try {
      template.render(List.of(ChatMessage.user("Hello")), true);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException("tokenizer_config.json: chat_template cannot be rendered: " + e.getMessage()
          + "; fix the template, or remove chat_template to use a built-in format", e);
    }
    return template;
  }

  @Override
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    Map<String, Object> context = new HashMap<>(specialTokens);
    context.put("messages", messages.stream().map(m -> {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role());
      map.put("content", m.content());
      return map;
    }).collect(Collectors.toList()));
    context.put("add_generation_prompt", addGenerationPrompt);
    RenderResult result = jinjava.renderForResult(source, context);
    List<TemplateError> fatal = result.getErrors().stream()
        .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).toList();
    if (!fatal.isEmpty()) {
      throw new IllegalArgumentException("chat_template: " + fatal.stream().map(JinjaChatTemplate::message)
          .collect(Collectors.joining("; ")));
    }
    return result.getOutput();
  }

  private static String message(TemplateError e) {
    Throwable cause = e.getException();
    while (cause != null) {
      if (cause instanceof TemplateRaisedException raised) {
        return raised.getMessage();
      }
      cause = cause.getCause();
    }
    return e.getMessage() + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "");
  }

  @Override
  public List<String> endOfTurnTokens() {
    return endOfTurnTokens;
  }

  @Override
  public String describe() {
    return "chat_template (tokenizer_config.json)";
  }

  @Override
  public String toString() {
    return describe();
  }

  /** The template's {@code raise_exception(message)}: the conversation does not fit the template. */
  public static String raiseException(String message) {
    throw new TemplateRaisedException(message);
  }

  /** transformers' {@code strftime_now(format)}: today's date in a Python strftime format (the common codes). */
  public static String strftimeNow(String format) {
    LocalDate today = LocalDate.now();
    String out = format.replace("%d", String.format("%02d", today.getDayOfMonth()))
        .replace("%m", String.format("%02d", today.getMonthValue()))
        .replace("%Y", String.valueOf(today.getYear()))
        .replace("%y", String.format("%02d", today.getYear() % 100))
        .replace("%B", today.format(DateTimeFormatter.ofPattern("MMMM", Locale.ENGLISH)))
        .replace("%b", today.format(DateTimeFormatter.ofPattern("MMM", Locale.ENGLISH)));
    return out;
  }

  /** What {@code raise_exception} throws; its message is the template's own. */
  static final class TemplateRaisedException extends RuntimeException {
    TemplateRaisedException(String message) {
      super(message);
    }
  }
}
