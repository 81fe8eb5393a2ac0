package io.marginal.model.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.marginal.model.CheckpointException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file: its header, and its tensors read as FLOAT32 NDArrays.
 *
 * <p>We read the format ourselves rather than through {@code NDList.decode} because DJL crashes
 * the JVM on BF16 and is limited to 2 GiB. F32 is read as is, F16 is widened by PyTorch, BF16 is
 * widened here (a BF16 value is the upper half of an F32). Tensors over {@link #CHUNK_BYTES} are
 * read in row blocks and concatenated so no Java buffer exceeds 2 GiB.
 */
public final class SafetensorsFile {
  static final long CHUNK_BYTES = 1L << 28;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A tensor's entry in the header; offsets are relative to the data section. */
  public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
    public long elements() {
      return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }
  }

  private final Path path;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(Path path, long dataStart, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    this.path = path;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Reads and validates the header of {@code path}. */
  public static SafetensorsFile open(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen <= 0 || headerLen > 100_000_000 || 8 + headerLen > ch.size()) {
        throw new CheckpointException(path + ": not a safetensors file (header length " + headerLen + ")");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(ch, header, 8);
      JsonNode root = JSON.readTree(header.array());
      long dataSize = ch.size() - 8 - headerLen;
      Map<String, TensorInfo> tensors = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        JsonNode t = e.getValue();
        long[] shape = new long[t.path("shape").size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = t.path("shape").get(i).asLong();
        }
        TensorInfo info = new TensorInfo(e.getKey(), t.path("dtype").asText(), shape,
            t.path("data_offsets").get(0).asLong(), t.path("data_offsets").get(1).asLong());
        long expected = info.elements() * bytesPerElement(info);
        if (info.end() - info.begin() != expected || info.end() > dataSize || info.begin() < 0) {
          throw new CheckpointException(path + ": tensor '" + info.name() + "' has " + (info.end() - info.begin())
              + " bytes at [" + info.begin() + ", " + info.end() + ") but dtype " + info.dtype() + " and shape "
              + Arrays.toString(shape) + " need " + expected + " (data section " + dataSize + " bytes); file is truncated or corrupt");
        }
        tensors.put(info.name(), info);
      }
      return new SafetensorsFile(path, 8 + headerLen, Collections.unmodifiableMap(tensors),
          Collections.unmodifiableMap(metadata));
    } catch (IOException e) {
      throw new CheckpointException(path + ": cannot read safetensors header: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      if (e instanceof CheckpointException) {
        throw e;
      }
      throw new CheckpointException(path + ": malformed safetensors header: " + e, e);
    }
  }

  public Path path() {
    return path;
  }

  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** Reads tensor {@code name} as a FLOAT32 array owned by {@code manager}. */
  public NDArray read(NDManager manager, String name) {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw new CheckpointException(path + ": no tensor named '" + name + "'");
    }
    long f32Bytes = info.elements() * 4;
    if (f32Bytes <= CHUNK_BYTES || info.shape().length == 0 || info.shape()[0] <= 1) {
      return readRows(manager, info, 0, info.shape().length == 0 ? 1 : info.shape()[0]);
    }
    long rowElements = info.elements() / info.shape()[0];
    long rowsPerChunk = Math.max(1, CHUNK_BYTES / (rowElements * 4));
    try (NDManager chunks = manager.newSubManager()) {
      NDArray result = null;
      for (long row = 0; row < info.shape()[0]; row += rowsPerChunk) {
        NDArray part = readRows(chunks, info, row, Math.min(info.shape()[0], row + rowsPerChunk));
        result = result == null ? part : result.concat(part, 0);
      }
      result.attach(manager);
      return result;
    }
  }

  /** Reads tensor {@code name} widened to a Java float array (row-major). */
  public float[] readFloats(String name) {
    try (NDManager m = NDManager.newBaseManager()) {
      return read(m, name).toFloatArray();
    }
  }

  private NDArray readRows(NDManager manager, TensorInfo info, long fromRow, long toRow) {
    long rows = info.shape().length == 0 ? 1 : info.shape()[0];
    long rowElements = info.elements() / Math.max(1, rows);
    int width = bytesPerElement(info);
    long offset = dataStart + info.begin() + fromRow * rowElements * width;
    int len = Math.toIntExact((toRow - fromRow) * rowElements * width);
    long[] shape = info.shape().clone();
    if (shape.length > 0) {
      shape[0] = toRow - fromRow;
    }
    ByteBuffer raw = ByteBuffer.allocateDirect(len).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      readFully(ch, raw, offset);
    } catch (IOException e) {
      throw new CheckpointException(path + ": cannot read tensor '" + info.name() + "': " + e.getMessage(), e);
    }
    raw.flip();
    return switch (info.dtype()) {
      case "F32" -> manager.create(raw, new Shape(shape), DataType.FLOAT32);
      case "F16" -> {
        NDArray half = manager.create(raw, new Shape(shape), DataType.FLOAT16);
        NDArray full = half.toType(DataType.FLOAT32, true);
        half.close();
        yield full;
      }
      case "BF16" -> manager.create(bf16ToF32(raw), new Shape(shape), DataType.FLOAT32);
      default -> throw new IllegalStateException("unreachable: " + info.dtype());
    };
  }

  /** Widens little-endian bfloat16 values to float32 (bits shifted into the upper half). */
  public static ByteBuffer bf16ToF32(ByteBuffer bf16) {
    int n = bf16.remaining() / 2;
    ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      int bits = bf16.getShort() & 0xFFFF;
      out.putInt(bits << 16);
    }
    return out.flip();
  }

  private static int bytesPerElement(TensorInfo info) {
    return switch (info.dtype()) {
      case "F32" -> 4;
      case "F16", "BF16" -> 2;
      default -> throw new CheckpointException("tensor '" + info.name() + "' has dtype " + info.dtype()
          + "; supported: F32, F16, BF16 (quantized checkpoints are not supported)");
    };
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, position);
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + position);
      }
      position += n;
    }
  }
}
