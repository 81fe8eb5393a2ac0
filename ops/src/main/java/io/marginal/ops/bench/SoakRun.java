package io.marginal.ops.bench;

import io.marginal.config.Cli;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import io.marginal.inference.InferenceNode;
import io.marginal.ops.LauncherConfig;
import io.marginal.ops.LocalLauncher;
import io.marginal.ops.demo.ChatClient;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The soak: the whole system in this JVM (broker, streams, trainer child, one inference node), N
 * chat requests from several clients with feedback and interaction deletions interleaved, and the
 * process's resident memory, heap, native share and thread count printed at the start (after a
 * warm-up), the middle and the end. Memory and threads must stay flat and no request may fail.
 *
 * <pre>mvn -q -Prun -DskipTests verify -Drun.main=io.marginal.ops.bench.SoakRun -Drun.args="--requests 10000"</pre>
 *
 * Flags: {@code --requests N} (10000), {@code --clients C} (4), {@code --feedback-every K} (5),
 * {@code --deletion-every K} (50). Exits 1 when a request failed or resident memory grew more than
 * 15 % from the middle to the end.
 */
public final class SoakRun {

  private static final List<String> PROMPTS = List.of("hey there", "what is the baggage allowance", "recommend me a sci-fi film",
      "I lost my card", "do I need a visa", "how do I reset my pin", "who are you", "recommend a movie about space",
      "suggest a movie about dreams for me");

  /** One sample of the process. */
  record Sample(String at, int requests, long rssKb, long rssAnonKb, long rssFileKb, long heapUsedKb, long heapCommittedKb,
      int threads) {
    long nativeKb() {
      return rssKb - heapCommittedKb;
    }
  }

  private SoakRun() {
  }

  public static void main(String[] args) {
    Cli.run(new Main(), args);
  }

  @Command(name = "SoakRun", description = {"The whole system in this JVM under chat load with feedback and deletions interleaved;",
      "prints memory and threads at the start, middle and end. Exits 1 when a request failed or resident",
      "memory grew more than 15 %% from the middle to the end."})
  static final class Main implements Callable<Integer> {
    @Option(names = "--requests", paramLabel = "N", description = "Chat requests in all.")
    int requests = 10_000;

    @Option(names = "--clients", paramLabel = "C", description = "Concurrent clients (one user each).")
    int clients = 4;

    @Option(names = "--feedback-every", paramLabel = "K", description = "Feedback on every K-th request.")
    int feedbackEvery = 5;

    @Option(names = "--deletion-every", paramLabel = "K", description = "An interaction deletion on every K-th request.")
    int deletionEvery = 50;

    @Override
    public Integer call() throws Exception {
      if (requests < 1 || clients < 1 || feedbackEvery < 1 || deletionEvery < 1) {
        throw new IllegalArgumentException("--requests, --clients, --feedback-every and --deletion-every must be >= 1");
      }
      System.exit(run(requests, clients, feedbackEvery, deletionEvery) ? 0 : 1);
      return 0;
    }
  }

  static boolean run(int requests, int clients, int feedbackEvery, int deletionEvery) throws IOException, InterruptedException {
    List<String> users = IntStream.range(0, clients).mapToObj(i -> "soak-" + i).toList();
    String keys = users.stream().map(u -> "sk-" + u + ":" + u).collect(Collectors.joining(","));
    Path dir = Files.createTempDirectory("marginal-soak");
    LauncherConfig config = new LauncherConfig(dir, "", 0, false, true, true, 1);
    LocalLauncher launcher = new LocalLauncher(config, Map.of("MARGINAL_HTTP_PORT", "0", "MARGINAL_STREAMS_HTTP_PORT", "0", "MARGINAL_TRAINER_HTTP_PORT", "0",
        "MARGINAL_API_KEYS", keys,
        "MARGINAL_ADMIN_KEY", "sk-soak-admin"));
    try {
      launcher.start();
      InferenceNode node = launcher.inferenceNodes().get(0);
      AtomicInteger done = new AtomicInteger();
      AtomicInteger errors = new AtomicInteger();
      AtomicInteger feedback = new AtomicInteger();
      AtomicInteger deletions = new AtomicInteger();
      List<Sample> samples = new ArrayList<>();
      int warmUp = Math.min(200, requests / 10);
      long t0 = System.nanoTime();
      List<Thread> threads = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        ChatClient client = new ChatClient(node.baseUrl(), "sk-" + users.get(c));
        Thread t = new Thread(() -> {
          for (int n = done.getAndIncrement(); n < requests; n = done.getAndIncrement()) {
            try {
              ChatClient.Answer a = client.chat(PROMPTS.get(n % PROMPTS.size()));
              if (n % feedbackEvery == 0) {
                client.preferResponse(a.interactionId(), "Call us on 0800 123 456.");
                feedback.incrementAndGet();
              }
              if (n % deletionEvery == 0) {
                client.forgetInteractions(List.of(a.interactionId()));
                deletions.incrementAndGet();
              }
            } catch (RuntimeException e) {
              errors.incrementAndGet();
              System.err.println("request " + n + " failed: " + e.getMessage());
            }
            if (n == warmUp) {
              sample(samples, "start (after " + warmUp + " warm-up requests)", n);
            } else if (n == requests / 2) {
              sample(samples, "middle", n);
            }
          }
        }, "soak-client-" + c);
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join();
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.gc();
      sample(samples, "end", requests);
      System.out.printf(Locale.ROOT, "%nSoak: %d chat requests (%d clients), %d feedback, %d deletions in %.0f s (%.1f req/s), %d failed%n%n",
          requests, clients, feedback.get(), deletions.get(), seconds, requests / seconds, errors.get());
      System.out.println("| when | requests | RSS MiB | of it anonymous | of it mapped files | heap used MiB | heap committed MiB"
          + " | RSS − heap (native etc.) MiB | threads |");
      System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
      samples.stream().sorted(java.util.Comparator.comparingInt(Sample::requests)).forEach(s -> System.out.printf(Locale.ROOT,
          "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %d |%n", s.at(), s.requests(), s.rssKb() / 1024.0,
          s.rssAnonKb() / 1024.0, s.rssFileKb() / 1024.0, s.heapUsedKb() / 1024.0, s.heapCommittedKb() / 1024.0,
          s.nativeKb() / 1024.0, s.threads()));
      Sample middle = samples.stream().filter(s -> s.at().equals("middle")).findFirst().orElse(samples.get(0));
      Sample end = samples.get(samples.size() - 1);
      double growth = (end.rssKb() - middle.rssKb()) / (double) middle.rssKb();
      System.out.printf(Locale.ROOT, "%nRSS middle → end: %+.1f %%; threads %d → %d%n", 100 * growth, middle.threads(), end.threads());
      return errors.get() == 0 && growth <= 0.15;
    } finally {
      launcher.stop();
    }
  }

  private static synchronized void sample(List<Sample> samples, String at, int requests) {
    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    samples.add(new Sample(at, requests, status("VmRSS:"), status("RssAnon:"), status("RssFile:"), heap.getUsed() / 1024,
        heap.getCommitted() / 1024,
        ManagementFactory.getThreadMXBean().getThreadCount()));
  }

  /** A kB figure of /proc/self/status: VmRSS, and its split into anonymous memory and mapped files (Kafka's mmapped indexes). */
  static long status(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: report 0
    }
    return 0;
  }
}
