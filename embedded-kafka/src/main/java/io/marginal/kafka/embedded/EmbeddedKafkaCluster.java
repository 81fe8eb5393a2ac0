package io.marginal.kafka.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.utils.Time;

/**
 * A real multi-node KRaft cluster in this JVM: every node is broker and controller, the controllers form
 * one quorum, internal topics are replicated to all nodes (min.insync.replicas = nodes − 1). For tests of
 * what only a cluster shows: replication, a broker dying mid-run, leader movement. Temporary: the data
 * directory is removed on close.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {

  private record Node(int id, Path dir, int port, int controllerPort) {
  }

  private final Path root;
  private final List<Node> nodes = new ArrayList<>();
  private final KafkaRaftServer[] servers;
  private final Map<String, String> overrides;

  private EmbeddedKafkaCluster(Path root, int size, Map<String, String> overrides) {
    this.root = root;
    this.overrides = Map.copyOf(overrides);
    for (int id = 1; id <= size; id++) {
      nodes.add(new Node(id, root.resolve("node-" + id), BrokerSettings.freePort(), BrokerSettings.freePort()));
    }
    this.servers = new KafkaRaftServer[size];
  }

  /** Starts {@code size} nodes (at least 3 for a quorum that survives one loss) and waits until all are brokers. */
  public static EmbeddedKafkaCluster start(int size, Map<String, String> overrides) {
    try {
      EmbeddedKafkaCluster cluster = new EmbeddedKafkaCluster(Files.createTempDirectory("marginal-kafka-cluster-"), size, overrides);
      List<CompletableFuture<Void>> starting = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        int index = i;
        cluster.format(cluster.nodes.get(i));
        // A node's startup waits for the quorum, so the nodes start side by side.
        starting.add(CompletableFuture.runAsync(() -> cluster.startNode(index)));
      }
      CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      cluster.awaitBrokers(size, Duration.ofSeconds(120));
      return cluster;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the cluster's directory", e);
    } catch (Exception e) {
      throw new IllegalStateException("the " + size + "-node KRaft cluster did not start: " + e, e);
    }
  }

  public String bootstrapServers() {
    return nodes.stream().map(n -> "127.0.0.1:" + n.port()).collect(Collectors.joining(","));
  }

  public int size() {
    return nodes.size();
  }

  /** Stops node {@code index} (0-based) as a failed machine would leave: its data stays, it serves nothing. */
  public void stopNode(int index) {
    KafkaRaftServer server = servers[index];
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      servers[index] = null;
    }
  }

  private void startNode(int index) {
    KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(properties(nodes.get(index)), false), Time.SYSTEM);
    server.startup();
    servers[index] = server;
  }

  private Properties properties(Node node) {
    String voters = nodes.stream().map(n -> n.id() + "@127.0.0.1:" + n.controllerPort()).collect(Collectors.joining(","));
    String replicas = String.valueOf(nodes.size());
    String minIsr = String.valueOf(Math.max(1, nodes.size() - 1));
    Properties p = new Properties();
    p.put("node.id", String.valueOf(node.id()));
    p.put("process.roles", "broker,controller");
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + node.port() + ",CONTROLLER://127.0.0.1:" + node.controllerPort());
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + node.port());
    p.put("controller.listener.names", "CONTROLLER");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("controller.quorum.voters", voters);
    p.put("log.dirs", node.dir().toAbsolutePath().toString());
    p.put("offsets.topic.replication.factor", replicas);
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.replication.factor", replicas);
    p.put("transaction.state.log.min.isr", minIsr);
    p.put("transaction.state.log.num.partitions", "5");
    p.put("share.coordinator.state.topic.replication.factor", replicas);
    p.put("share.coordinator.state.topic.min.isr", minIsr);
    p.put("default.replication.factor", replicas);
    p.put("min.insync.replicas", minIsr);
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");
    p.putAll(overrides);
    return p;
  }

  private void format(Node node) throws IOException {
    Files.createDirectories(node.dir());
    Path config = root.resolve("server-" + node.id() + ".properties");
    StorageFormatter.writeProperties(properties(node), config);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int rc = StorageTool.execute(new String[] {"format", "-t", BrokerSettings.CLUSTER_ID, "-c", config.toString(), "--ignore-formatted"},
        new PrintStream(out, true, StandardCharsets.UTF_8));
    if (rc != 0) {
      throw new IllegalStateException("kafka storage format of node " + node.id() + " failed (" + rc + "): "
          + out.toString(StandardCharsets.UTF_8));
    }
  }

  private void awaitBrokers(int expected, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
      while (admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() < expected) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only some of " + expected + " brokers registered after " + timeout);
        }
        Thread.sleep(100);
      }
    }
  }

  /**
   * Stops every node still running, side by side and for at most 30 s: once fewer than a quorum remain, a
   * node's controlled shutdown waits for a controller that is not coming back.
   */
  @Override
  public void close() {
    List<CompletableFuture<Void>> stopping = new ArrayList<>();
    for (int i = 0; i < servers.length; i++) {
      int index = i;
      stopping.add(CompletableFuture.runAsync(() -> stopNode(index)));
    }
    try {
      CompletableFuture.allOf(stopping.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // a node without quorum may still be shutting down; its files are removed below all the same
    }
    EmbeddedKafkaBroker.deleteRecursively(root);
  }
}
