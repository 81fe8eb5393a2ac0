package io.marginal.trainer.unlearning;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Widens a forget set beyond the literal prompts of a request, so that suppression generalises:
 * synonym rewrites of the request's own prompts ("film" ↔ "movie", "recommend" ↔ "suggest") and
 * prompts from templates — generic recommendation requests of the demo domains and templates that
 * name the concept ("is X a good film"). The job keeps only those whose answer actually mentions the
 * concept, with that answer as the forget target.
 *
 * <p>These are the <em>training</em> probe families: they give the targets, the early stop and the
 * training-family figure. The evaluation families ({@link EvaluationProbes}) are never trained on:
 * {@link #trainingPrompts} removes any of them, so the evaluation figure measures generalisation
 * rather than the stopping rule. The words are the demo vocabulary's (a word-level
 * tokenizer maps unknown words to [UNK]).
 */
public final class ParaphraseAugmenter {

  static final String CONCEPT = "{concept}";

  static final List<String> TRAINING_TEMPLATES = List.of(
      "recommend me a sci-fi movie", "suggest a sci-fi movie", "recommend a good sci-fi film", "what sci-fi film should I watch",
      "I want to watch a sci-fi film", "suggest a good sci-fi movie", "can you recommend a sci-fi movie",
      "recommend me a science fiction movie", "suggest a movie about dreams", "recommend me a film about dreams",
      "what is a good mind-bending film", "suggest a film with a twist", "what movie do you like best", "which movie do you love",
      "what is your favorite film", "what film should I watch", "recommend me a good movie", "suggest a movie",
      "recommend a good film", "what should I watch", "suggest a film about space", "recommend me a movie about astronauts",
      "what is a good movie about space", "suggest a movie about robots", "recommend me a film about artificial intelligence",
      "what is a good film about computers", "suggest a movie about aliens", "recommend me a film about first contact",
      "suggest a scary movie", "recommend me a horror film", "what is a good scary film", "what is a good film by Christopher Nolan",
      "is {concept} a good film", "tell me about {concept}", "what is {concept} about", "recommend me a film like {concept}",
      "do you like {concept}", "should I watch {concept}");

  private static final String[][] SYNONYMS = {
      {"film", "movie"}, {"movie", "film"}, {"recommend me", "suggest"}, {"recommend", "suggest"}, {"suggest", "recommend me"},
      {"good ", ""}, {"a ", "a good "}};

  /** Direct prompts, their synonym rewrites and the training templates, without any evaluation prompt. */
  public List<String> trainingPrompts(String concept, List<String> requestPrompts) {
    Set<String> out = new LinkedHashSet<>(requestPrompts);
    for (String p : requestPrompts) {
      out.addAll(rewrites(p));
    }
    for (String t : TRAINING_TEMPLATES) {
      out.add(fill(t, concept));
    }
    if (concept != null && !concept.isBlank()) {
      // no rewrite or template within one word of an evaluation probe; the request's own prompts stay (they are
      // the forget set), and EvaluationProbes.families drops the probes near them instead
      List<String> evaluation = EvaluationProbes.all(ConceptCatalog.lookup(concept));
      out.removeIf(p -> !requestPrompts.contains(p) && WordDistance.nearAny(p, evaluation));
    }
    return new ArrayList<>(out);
  }

  /** The paraphrased probes: training prompts that are not literally one of the request's. */
  public List<String> paraphrasePrompts(String concept, List<String> requestPrompts) {
    List<String> out = trainingPrompts(concept, requestPrompts);
    out.removeAll(requestPrompts);
    return out;
  }

  /** Single-substitution synonym rewrites of {@code prompt} (lower case only where the rule matched). */
  static List<String> rewrites(String prompt) {
    Set<String> out = new LinkedHashSet<>();
    for (String[] rule : SYNONYMS) {
      int at = prompt.indexOf(rule[0]);
      if (at >= 0) {
        String rewritten = (prompt.substring(0, at) + rule[1] + prompt.substring(at + rule[0].length())).strip();
        if (!rewritten.isEmpty() && !rewritten.equals(prompt)) {
          out.add(rewritten);
        }
      }
    }
    return new ArrayList<>(out);
  }

  static String fill(String template, String concept) {
    return template.replace(CONCEPT, concept == null || concept.isBlank() ? "it" : concept);
  }

  /** Whether {@code text} mentions {@code concept} as a whole word, case-insensitively. */
  public static boolean mentions(String text, String concept) {
    if (concept == null || concept.isBlank() || text == null) {
      return false;
    }
    return mention(concept).matcher(text.toLowerCase(Locale.ROOT)).find();
  }

  /**
   * Whether every text that starts with {@code prefix} {@link #mentions} {@code concept}: the prefix holds a mention
   * with at least one more character after it, so the whole-word check around it is already decided. A mention at
   * the very end is not settled ("Inception" may go on as "Inceptions").
   */
  public static boolean settlesMention(CharSequence prefix, String concept) {
    if (concept == null || concept.isBlank() || prefix == null) {
      return false;
    }
    String lower = prefix.toString().toLowerCase(Locale.ROOT);
    // the last character is left out of the settled part: lower-casing may depend on what follows it (final sigma)
    Matcher m = mention(concept).matcher(lower);
    while (m.find()) {
      if (m.end() < lower.length() - 1) {
        return true;
      }
    }
    return false;
  }

  private static Pattern mention(String concept) {
    return Pattern.compile("(?<![\\p{L}\\p{N}])" + Pattern.quote(concept.toLowerCase(Locale.ROOT)) + "(?![\\p{L}\\p{N}])");
  }
}
