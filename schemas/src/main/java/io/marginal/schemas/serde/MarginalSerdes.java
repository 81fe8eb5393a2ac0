package io.marginal.schemas.serde;

import io.marginal.schemas.AdapterActivation;
import io.marginal.schemas.AdapterPublished;
import io.marginal.schemas.DeadLetter;
import io.marginal.schemas.DeletionReceipt;
import io.marginal.schemas.DeletionRequest;
import io.marginal.schemas.Feedback;
import io.marginal.schemas.Interaction;
import io.marginal.schemas.MemoryBank;
import io.marginal.schemas.UnlearningRequest;

/** One serde per topic value type, built once and shared (they are stateless and thread-safe). */
public final class MarginalSerdes {

  public static final AvroSerde<Interaction> INTERACTION = new AvroSerde<>(Interaction.class);
  public static final AvroSerde<Feedback> FEEDBACK = new AvroSerde<>(Feedback.class);
  public static final AvroSerde<DeletionRequest> DELETION_REQUEST = new AvroSerde<>(DeletionRequest.class);
  public static final AvroSerde<MemoryBank> MEMORY_BANK = new AvroSerde<>(MemoryBank.class);
  public static final AvroSerde<UnlearningRequest> UNLEARNING_REQUEST = new AvroSerde<>(UnlearningRequest.class);
  public static final AvroSerde<AdapterPublished> ADAPTER_PUBLISHED = new AvroSerde<>(AdapterPublished.class);
  public static final AvroSerde<AdapterActivation> ADAPTER_ACTIVATION = new AvroSerde<>(AdapterActivation.class);
  public static final AvroSerde<DeletionReceipt> DELETION_RECEIPT = new AvroSerde<>(DeletionReceipt.class);
  public static final AvroSerde<DeadLetter> DEAD_LETTER = new AvroSerde<>(DeadLetter.class);

  private MarginalSerdes() {
  }
}
