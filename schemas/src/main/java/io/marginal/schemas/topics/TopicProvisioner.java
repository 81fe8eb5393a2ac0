package io.marginal.schemas.topics;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the topics that do not exist yet; leaves existing ones (and their data) alone. */
public final class TopicProvisioner {

  private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

  private TopicProvisioner() {
  }

  /** Returns the names of the topics it created. */
  public static List<String> ensureTopics(String bootstrapServers, Map<String, Object> clientSecurity, Topics topics) {
    Map<String, Object> config = new java.util.HashMap<>(clientSecurity);
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Admin admin = Admin.create(config)) {
      Set<String> existing = admin.listTopics().names().get();
      List<NewTopic> missing = topics.all().stream()
          .filter(t -> !existing.contains(t.name()))
          .map(TopicSpec::newTopic)
          .toList();
      if (!missing.isEmpty()) {
        admin.createTopics(missing).all().get();
      }
      List<String> created = missing.stream().map(NewTopic::name).toList();
      LOG.info("topics ready on {}: {} created, {} already present", bootstrapServers, created.size(),
          topics.all().size() - created.size());
      return created;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics on " + bootstrapServers, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot create topics on " + bootstrapServers + ": " + e.getCause().getMessage(), e.getCause());
    }
  }
}
