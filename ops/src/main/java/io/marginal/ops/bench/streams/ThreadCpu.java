package io.marginal.ops.bench.streams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Per-thread CPU of this process from /proc/self/task (Linux), native threads (RocksDB, GC, JIT)
 * included, grouped by thread name with digits folded: where the CPU outside the stream thread goes.
 */
final class ThreadCpu {

  private ThreadCpu() {
  }

  /** Ticks (1/100 s on Linux) used per thread-name group so far; empty where /proc is not there. */
  static Map<String, Long> snapshot() {
    Map<String, Long> out = new HashMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    try (Stream<Path> list = Files.list(tasks)) {
      list.forEach(t -> {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("\\d+", "N");
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
          out.merge(name, ticks, Long::sum);
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      });
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  /** The groups that used most CPU between two snapshots, as "name 12.3 µs/event" entries. */
  static String top(Map<String, Long> before, Map<String, Long> after, int events, int n) {
    Map<Long, String> sorted = new TreeMap<>(java.util.Comparator.reverseOrder());
    StringBuilder sb = new StringBuilder();
    after.forEach((name, ticks) -> {
      long used = ticks - before.getOrDefault(name, 0L);
      if (used > 0) {
        sorted.merge(used, name, (a, b) -> a + "," + b);
      }
    });
    sorted.entrySet().stream().limit(n).forEach(e -> sb.append(String.format("%s %.0f µs; ", e.getValue(), e.getKey() * 1e4 / events)));
    return sb.toString();
  }
}
