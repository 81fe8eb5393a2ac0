package io.marginal.model.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Writes {@code .safetensors} files deterministically: tensors sorted by name, header padded to a
 * multiple of 8 bytes, no timestamps. The same tensors therefore always give the same bytes (and
 * the same sha256), which is what adapter identity relies on.
 */
public final class SafetensorsWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SafetensorsWriter() {}

  /** A tensor to write: its safetensors dtype ({@code F32}, {@code F16}, {@code BF16}), shape and raw little-endian bytes. */
  public record Entry(String dtype, long[] shape, byte[] data) {
    /** Copies an NDArray as FLOAT32. */
    public static Entry f32(NDArray array) {
      NDArray f = array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, true);
      float[] values = f.toFloatArray();
      if (f != array) {
        f.close();
      }
      return f32(values, array.getShape().getShape());
    }

    public static Entry f32(float[] values, long... shape) {
      ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(values);
      return new Entry("F32", shape, b.array());
    }
  }

  /** Serializes NDArrays (as F32) into safetensors bytes. */
  public static byte[] toBytes(Map<String, NDArray> tensors, Map<String, String> metadata) {
    SortedMap<String, Entry> entries = new TreeMap<>();
    tensors.forEach((name, array) -> entries.put(name, Entry.f32(array)));
    return encode(entries, metadata);
  }

  /** Serializes raw entries into safetensors bytes. */
  public static byte[] encode(Map<String, Entry> entries, Map<String, String> metadata) {
    SortedMap<String, Entry> sorted = new TreeMap<>(entries);
    ObjectNode header = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      new TreeMap<>(metadata).forEach(meta::put);
    }
    long offset = 0;
    for (Map.Entry<String, Entry> e : sorted.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", e.getValue().dtype());
      var shape = t.putArray("shape");
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(offset).add(offset + e.getValue().data().length);
      offset += e.getValue().data().length;
    }
    byte[] headerBytes;
    try {
      headerBytes = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    int padded = (headerBytes.length + 7) / 8 * 8;
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, 8 + padded + offset));
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
    out.writeBytes(len.array());
    out.writeBytes(headerBytes);
    for (int i = headerBytes.length; i < padded; i++) {
      out.write(' ');
    }
    for (Entry e : sorted.values()) {
      out.writeBytes(e.data());
    }
    return out.toByteArray();
  }

  /** Writes NDArrays (as F32) to {@code file}, atomically (temp file + move). */
  public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) {
    writeBytes(file, toBytes(tensors, metadata));
  }

  /** Writes bytes to {@code file} through a temporary sibling and an atomic move. */
  public static void writeBytes(Path file, byte[] bytes) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
      try (OutputStream o = Files.newOutputStream(tmp)) {
        o.write(bytes);
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Names in the order {@link #encode} writes them. */
  public static List<String> order(Map<String, ?> tensors) {
    return List.copyOf(new TreeMap<>(tensors).keySet());
  }
}
