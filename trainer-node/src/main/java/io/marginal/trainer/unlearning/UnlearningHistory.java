package io.marginal.trainer.unlearning;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.marginal.schemas.Example;
import io.marginal.schemas.UnlearningRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The requests an adapter version covers, with the data each brought ({@value #FILE_NAME}, next
 * to the manifest). A later request for the same scope rebuilds its forget constraints and retain
 * set from it, and a deletion can retrain the scope without one request's data. It lives only in
 * the adapter's own directory, which the deletion path knows through the adapter's lineage.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record UnlearningHistory(List<Entry> entries) {

  public static final String FILE_NAME = "unlearning_history.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public static final UnlearningHistory EMPTY = new UnlearningHistory(List.of());

  /** One example as stored. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Item(String prompt, String response, double weight) {
    static Item of(Example e) {
      return new Item(e.getPrompt(), e.getResponse(), e.getWeight());
    }

    public Example toExample() {
      return new Example(prompt, response, weight);
    }
  }

  /** One covered request. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Entry(String requestId, String concept, String objective, List<Item> forget, List<Item> retain,
                      List<String> lineage, String sourceDeletionId) {
    public static Entry of(UnlearningRequest r, String objective) {
      return new Entry(r.getRequestId(), r.getConcept(), objective, r.getForgetExamples().stream().map(Item::of).toList(),
          r.getRetainExamples().stream().map(Item::of).toList(), List.copyOf(r.getLineage()), r.getSourceDeletionId());
    }
  }

  public UnlearningHistory {
    entries = entries == null ? List.of() : List.copyOf(entries);
  }

  public static UnlearningHistory read(Path adapterDir) {
    Path file = adapterDir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      return EMPTY;
    }
    try {
      return JSON.readValue(file.toFile(), UnlearningHistory.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  public void write(Path adapterDir) {
    try {
      JSON.writeValue(adapterDir.resolve(FILE_NAME).toFile(), this);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + adapterDir.resolve(FILE_NAME) + ": " + e.getMessage(), e);
    }
  }

  public UnlearningHistory plus(Entry entry) {
    List<Entry> out = new ArrayList<>(entries);
    out.removeIf(e -> e.requestId().equals(entry.requestId()));
    out.add(entry);
    return new UnlearningHistory(out);
  }

  /**
   * This history without the data a deletion names: entries whose request or source events the
   * deletion's lineage lists are dropped whole, and every example whose prompt the deletion's
   * forget set names is dropped from the rest.
   */
  public UnlearningHistory without(Collection<String> deletedIds, Collection<String> deletedPrompts) {
    Set<String> ids = new LinkedHashSet<>(deletedIds);
    Set<String> prompts = new LinkedHashSet<>(deletedPrompts);
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries) {
      boolean named = ids.contains(e.requestId()) || (e.sourceDeletionId() != null && ids.contains(e.sourceDeletionId()))
          || e.lineage().stream().anyMatch(ids::contains);
      if (named) {
        continue;
      }
      out.add(new Entry(e.requestId(), e.concept(), e.objective(),
          e.forget().stream().filter(i -> !prompts.contains(i.prompt())).toList(),
          e.retain().stream().filter(i -> !prompts.contains(i.prompt())).toList(), e.lineage(), e.sourceDeletionId()));
    }
    return new UnlearningHistory(out);
  }

  /** Lineage for the manifest: {@code request:<id>} per covered request, its deletion, then the source event ids. */
  public List<String> lineage() {
    Set<String> out = new LinkedHashSet<>();
    for (Entry e : entries) {
      out.add("request:" + e.requestId());
      if (e.sourceDeletionId() != null) {
        out.add("deletion:" + e.sourceDeletionId());
      }
    }
    entries.forEach(e -> out.addAll(e.lineage()));
    return new ArrayList<>(out);
  }
}
