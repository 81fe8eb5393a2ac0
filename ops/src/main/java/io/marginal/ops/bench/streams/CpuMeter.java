package io.marginal.ops.bench.streams;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;

/** CPU used between start and stop: by Kafka Streams' stream threads, and by the whole process. */
final class CpuMeter {

  record Reading(long streamThreadNanos, long processNanos) {
  }

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private final long streamThreads;
  private final long process;

  private CpuMeter(long streamThreads, long process) {
    this.streamThreads = streamThreads;
    this.process = process;
  }

  static CpuMeter start() {
    return new CpuMeter(streamThreadCpu(), processCpu());
  }

  Reading stop() {
    return new Reading(streamThreadCpu() - streamThreads, processCpu() - process);
  }

  private static long streamThreadCpu() {
    long total = 0;
    for (ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (t != null && t.getThreadName().contains("-StreamThread-")) {
        total += Math.max(0, THREADS.getThreadCpuTime(t.getThreadId()));
      }
    }
    return total;
  }

  private static long processCpu() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
