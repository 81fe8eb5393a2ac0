package io.marginal.streams.topology;

import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;

/** The three user-keyed inputs, merged into one stream so that one processor owns the user's stores. */
public sealed interface InputEvent {

  /** Name of the topic it came from, for dead letters. */
  String sourceBase();

  /** {@code raw}: the record's bytes as they arrived (stored as they are), null when the record had no value. */
  record Interacted(Interaction interaction, byte[] raw) implements InputEvent {
    public String sourceBase() {
      return io.marginal.schemas.topics.Topics.INTERACTIONS;
    }
  }

  record FeedbackGiven(Feedback feedback) implements InputEvent {
    public String sourceBase() {
      return io.marginal.schemas.topics.Topics.FEEDBACK;
    }
  }

  record DeletionRequested(DeletionRequest request) implements InputEvent {
    public String sourceBase() {
      return io.marginal.schemas.topics.Topics.DELETIONS;
    }
  }
}
