package io.marginal.kafka.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The properties of a single-node KRaft broker that is also its own controller, listening on
 * loopback. Ports of 0 are replaced by free ones.
 *
 * @param dataDir  the broker's log directory (formatted on first start, reused after)
 * @param port     the client listener port
 * @param controllerPort the KRaft controller listener port
 */
public record BrokerSettings(Path dataDir, int port, int controllerPort) {

  public static final String CLUSTER_ID = "bWFyZ2luYWwtZGVtby0x";

  public BrokerSettings {
    port = port == 0 ? freePort() : port;
    controllerPort = controllerPort == 0 ? freePort() : controllerPort;
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  public Properties toProperties() {
    Properties p = new Properties();
    p.put("node.id", "1");
    p.put("process.roles", "broker,controller");
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put("log.dirs", dataDir.toAbsolutePath().toString());
    // One broker: every internal topic has one replica.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "5");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");
    // Deletions must become physical quickly: check retention and compaction often.
    p.put("log.retention.check.interval.ms", "30000");
    p.put("log.cleaner.backoff.ms", "5000");
    return p;
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port for the embedded broker", e);
    }
  }
}
