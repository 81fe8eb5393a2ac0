package io.marginal.model.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The bundled demo corpus ({@code corpus.txt} next to this class): intent blocks of user
 * phrasings and answers, expanded into single-turn dialogues. Chit-chat, banking and travel
 * intents, and movie recommendations that name titles (Inception, Interstellar, The Matrix,
 * Arrival, Alien) for unlearning demos to suppress.
 */
public final class DemoCorpus {
  static final String RESOURCE = "corpus.txt";

  /** One intent: how users ask, and how the assistant answers. */
  public record Block(String intent, List<String> userPhrasings, List<String> answers) {}

  /** One training dialogue. */
  public record Dialogue(String intent, String user, String assistant) {}

  private DemoCorpus() {}

  /** The raw resource text (hashed into the demo model's cache key). */
  public static String text() {
    try (InputStream in = DemoCorpus.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("demo corpus resource " + RESOURCE + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static List<Block> blocks() {
    List<Block> blocks = new ArrayList<>();
    String intent = null;
    List<String> users = new ArrayList<>();
    List<String> answers = new ArrayList<>();
    for (String raw : text().split("\n")) {
      String line = raw.strip();
      if (line.startsWith("@")) {
        if (intent != null) {
          blocks.add(new Block(intent, List.copyOf(users), List.copyOf(answers)));
        }
        intent = line.substring(1);
        users.clear();
        answers.clear();
      } else if (line.startsWith("U:")) {
        users.add(line.substring(2).strip());
      } else if (line.startsWith("A:")) {
        answers.add(line.substring(2).strip());
      }
    }
    if (intent != null) {
      blocks.add(new Block(intent, List.copyOf(users), List.copyOf(answers)));
    }
    return blocks;
  }

  /**
   * Every (phrasing variant, answer) pair. Variants of a phrasing: as written, capitalised,
   * capitalised with a question mark, and with "please" appended, so the model copes with how
   * people actually type.
   */
  public static List<Dialogue> dialogues() {
    List<Dialogue> out = new ArrayList<>();
    for (Block b : blocks()) {
      for (String u : b.userPhrasings()) {
        for (String variant : variants(u)) {
          for (String a : b.answers()) {
            out.add(new Dialogue(b.intent(), variant, a));
          }
        }
      }
    }
    return out;
  }

  static List<String> variants(String u) {
    Set<String> v = new LinkedHashSet<>();
    String cap = Character.toUpperCase(u.charAt(0)) + u.substring(1);
    v.add(u);
    v.add(cap);
    v.add(cap + "?");
    v.add(u + " please");
    return List.copyOf(v);
  }

  /** Probe prompts (user turns) and a word their answer should contain, used to check a built model. */
  public static List<String[]> probes() {
    return List.of(
        new String[] {"hello", "Hello"},
        new String[] {"how do I reset my pin", "PIN"},
        new String[] {"recommend me a sci-fi film", "Inception"},
        new String[] {"recommend a movie about space", "Interstellar"},
        new String[] {"I lost my card", "card"},
        new String[] {"book a flight to Paris", "flight"});
  }
}
