package io.marginal.streams.store;

import io.marginal.schemas.Feedback;
import io.marginal.schemas.serde.MarginalSerdes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Feedback buffered for one interaction that has not arrived yet, with the stream time it was
 * buffered at. All the feedback waiting for an interaction is one value under {@code user U+0000
 * interactionId}, so the interaction finds it with one point lookup (no prefix scan, no iterator).
 */
public record WaitingFeedback(long bufferedAtMs, Feedback feedback) {

  /** A list of waiting feedback: count, then (bufferedAt, length, Avro bytes) per item. */
  public static final Serde<List<WaitingFeedback>> LIST_SERDE = Serdes.serdeFrom(new Serializer<>() {
    @Override
    public byte[] serialize(String topic, List<WaitingFeedback> list) {
      if (list == null) {
        return null;
      }
      List<byte[]> encoded = new ArrayList<>(list.size());
      int size = 4;
      for (WaitingFeedback w : list) {
        byte[] f = MarginalSerdes.FEEDBACK.serialize(topic, w.feedback);
        encoded.add(f);
        size += 12 + f.length;
      }
      ByteBuffer b = ByteBuffer.allocate(size).putInt(list.size());
      for (int i = 0; i < list.size(); i++) {
        b.putLong(list.get(i).bufferedAtMs).putInt(encoded.get(i).length).put(encoded.get(i));
      }
      return b.array();
    }
  }, new Deserializer<>() {
    @Override
    public List<WaitingFeedback> deserialize(String topic, byte[] bytes) {
      if (bytes == null) {
        return null;
      }
      try {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        int n = b.getInt();
        List<WaitingFeedback> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          long at = b.getLong();
          byte[] f = new byte[b.getInt()];
          b.get(f);
          out.add(new WaitingFeedback(at, MarginalSerdes.FEEDBACK.deserialize(topic, f)));
        }
        return out;
      } catch (RuntimeException e) {
        throw new SerializationException("unreadable waiting-feedback list on " + topic + " (" + bytes.length + " bytes): " + e, e);
      }
    }
  });
}
