package io.marginal.ops.eval.cm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An intent dataset as (train, eval) lists of labelled texts.
 *
 * <ul>
 *   <li>clinc150: the oos-eval JSON ({@code data_full*.json}); train = "train", eval = "val" (out-of-scope rows excluded).</li>
 *   <li>banking77: a {@code text,category} CSV; split deterministically: every 5th row (index % 5 == 4) is eval,
 *       the rest train (80/20).</li>
 * </ul>
 *
 * <p>{@link #load(String, Path, Path)} takes a separate eval file instead and splits nothing: clinc150 train = the
 * train file's "train" split, eval = the eval file's "test" split if it has one, else its "val" split; banking77
 * train = every row of the train CSV, eval = every row of the eval CSV (e.g. BANKING77's own test.csv).
 */
public record IntentDataset(String name, List<Labelled> train, List<Labelled> eval) {

  public record Labelled(String text, String label) {
  }

  public static IntentDataset load(String kind, Path file) {
    try {
      return switch (kind) {
        case "clinc150" -> clinc(file);
        case "banking77" -> banking(file);
        default -> throw new IllegalArgumentException("unknown dataset kind '" + kind + "'; use clinc150 or banking77");
      };
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " as " + kind + ": " + e.getMessage(), e);
    }
  }

  /** Train rows from one file, eval rows from another; no re-splitting (see the class comment). */
  public static IntentDataset load(String kind, Path trainFile, Path evalFile) {
    try {
      return switch (kind) {
        case "clinc150" -> new IntentDataset("CLINC150", clincSplit(trainFile, "train"),
            clincSplit(evalFile, new ObjectMapper().readTree(evalFile.toFile()).has("test") ? "test" : "val"));
        case "banking77" -> new IntentDataset("BANKING77", bankingRows(trainFile), bankingRows(evalFile));
        default -> throw new IllegalArgumentException("unknown dataset kind '" + kind + "'; use clinc150 or banking77");
      };
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + trainFile + " / " + evalFile + " as " + kind + ": " + e.getMessage(), e);
    }
  }

  private static List<Labelled> clincSplit(Path file, String split) throws IOException {
    JsonNode root = new ObjectMapper().readTree(file.toFile());
    if (!root.has(split)) {
      throw new IllegalArgumentException(file + " has no '" + split + "' split; expected the CLINC150 oos-eval JSON format");
    }
    return rows(root.get(split));
  }

  private static IntentDataset clinc(Path file) throws IOException {
    return new IntentDataset("CLINC150", clincSplit(file, "train"), clincSplit(file, "val"));
  }

  private static List<Labelled> rows(JsonNode split) {
    List<Labelled> out = new ArrayList<>();
    split.forEach(row -> out.add(new Labelled(row.get(0).asText(), row.get(1).asText())));
    return out;
  }

  private static IntentDataset banking(Path file) throws IOException {
    List<Labelled> rows = bankingRows(file);
    List<Labelled> train = new ArrayList<>();
    List<Labelled> eval = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      (i % 5 == 4 ? eval : train).add(rows.get(i));
    }
    return new IntentDataset("BANKING77", train, eval);
  }

  /** Every data row of a text,category CSV (header skipped). */
  private static List<Labelled> bankingRows(Path file) throws IOException {
    List<List<String>> records = csv(Files.readString(file, StandardCharsets.UTF_8));
    List<Labelled> rows = new ArrayList<>();
    for (int i = 1; i < records.size(); i++) {
      List<String> cells = records.get(i);
      if (cells.size() == 1 && cells.get(0).isBlank()) {
        continue;
      }
      if (cells.size() != 2) {
        throw new IllegalArgumentException(file + " record " + (i + 1) + ": expected 2 columns text,category, got " + cells.size());
      }
      rows.add(new Labelled(cells.get(0).strip(), cells.get(1).strip()));
    }
    return rows;
  }

  /** RFC 4180 records (quoted cells may contain commas, newlines and doubled quotes). */
  static List<List<String>> csv(String content) {
    List<List<String>> records = new ArrayList<>();
    List<String> cells = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < content.length(); i++) {
      char c = content.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < content.length() && content.charAt(i + 1) == '"') {
          cell.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          cell.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        cells.add(cell.toString());
        cell.setLength(0);
      } else if (c == '\n') {
        cells.add(cell.toString());
        cell.setLength(0);
        records.add(cells);
        cells = new ArrayList<>();
      } else if (c != '\r') {
        cell.append(c);
      }
    }
    if (cell.length() > 0 || !cells.isEmpty()) {
      cells.add(cell.toString());
      records.add(cells);
    }
    return records;
  }
}
