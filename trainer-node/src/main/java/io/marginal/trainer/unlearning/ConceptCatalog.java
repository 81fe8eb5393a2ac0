package io.marginal.trainer.unlearning;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/**
 * The bundled concept cards of the demo films (and their director), one JSON file each under
 * {@code io/marginal/trainer/concepts/}. Lookup is by title or alias, case-insensitively; an unknown
 * concept gets a title-only card, so leak detection degrades to title matching rather than failing.
 */
public final class ConceptCatalog {

  static final List<String> FILES = List.of("inception", "interstellar", "the-matrix", "arrival", "alien", "christopher-nolan");

  private static final List<ConceptCard> CARDS = load();

  private ConceptCatalog() {
  }

  public static List<ConceptCard> all() {
    return CARDS;
  }

  /** The card whose title or alias is {@code concept}, else a title-only card. */
  public static ConceptCard lookup(String concept) {
    if (concept == null || concept.isBlank()) {
      throw new IllegalArgumentException("no concept to look up");
    }
    String key = concept.strip().toLowerCase(Locale.ROOT);
    for (ConceptCard c : CARDS) {
      if (c.names().stream().anyMatch(n -> n.toLowerCase(Locale.ROOT).equals(key))) {
        return c;
      }
    }
    return ConceptCard.titleOnly(concept.strip());
  }

  private static List<ConceptCard> load() {
    ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
    return FILES.stream().map(name -> {
      String resource = "/io/marginal/trainer/concepts/" + name + ".json";
      try (InputStream in = ConceptCatalog.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("concept card " + resource + " is missing from the classpath");
        }
        return json.readValue(in, ConceptCard.class);
      } catch (IOException e) {
        throw new UncheckedIOException("concept card " + resource + " is not valid: " + e.getMessage(), e);
      }
    }).toList();
  }
}
