package io.marginal.trainer.job;

import io.marginal.schemas.UnlearningRequest;
import io.marginal.trainer.store.StoredAdapter;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Turns one validated unlearning request into an adapter directory (PEFT layout + manifest) and
 * its evaluation. The node decides what to do with the outcome (store and publish, or refuse).
 */
public interface UnlearningJob {

  /**
   * @param previous the scope's current adapter version, if any: the new version must keep
   *                 what it forgot (continual requests)
   * @param workDir  an empty directory the job may write the new adapter into
   */
  UnlearningOutcome run(UnlearningRequest request, Optional<StoredAdapter> previous, Path workDir, ProgressListener progress);

  /**
   * Computes ahead what every request needs and no request changes (e.g. the base model's answers to
   * the retain prompts), so that the first request does not wait for it. Called once by the node
   * before it consumes; a failure here only costs the first request that time.
   */
  default void warmUp() {
  }
}
