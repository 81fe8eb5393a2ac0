package io.marginal.schemas.fault;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * A valid instance of any generated record class, filled field by field from its schema (two items
 * per array and map, the first non-null branch of each union), so fault tooling has a well-formed
 * record of every type to corrupt, including types added later.
 */
public final class SampleRecords {

  private SampleRecords() {
  }

  public static <T extends SpecificRecord> T of(Class<T> type) {
    SpecificData model = SpecificData.getForClass(type);
    Schema schema = model.getSchema(type);
    Object generic = fill(schema, 0);
    return type.cast(model.deepCopy(schema, generic));
  }

  private static Object fill(Schema schema, int depth) {
    if (schema.getLogicalType() != null && schema.getLogicalType().getName().startsWith("timestamp")) {
      return Instant.ofEpochMilli(1_700_000_000_000L);
    }
    switch (schema.getType()) {
      case RECORD: {
        GenericData.Record record = new GenericData.Record(schema);
        for (Schema.Field field : schema.getFields()) {
          record.put(field.pos(), fill(field.schema(), depth + 1));
        }
        return record;
      }
      case UNION: {
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() != Schema.Type.NULL) {
            return fill(branch, depth);
          }
        }
        return null;
      }
      case ARRAY: {
        List<Object> items = new ArrayList<>();
        items.add(fill(schema.getElementType(), depth + 1));
        items.add(fill(schema.getElementType(), depth + 1));
        return new GenericData.Array<>(schema, items);
      }
      case MAP: {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("k1", fill(schema.getValueType(), depth + 1));
        map.put("k2", fill(schema.getValueType(), depth + 1));
        return map;
      }
      case ENUM:
        return new GenericData.EnumSymbol(schema, schema.getEnumSymbols().get(0));
      case STRING:
        return "sample-" + depth;
      case BYTES:
        return ByteBuffer.wrap(new byte[] {1, 2, 3});
      case FIXED:
        return new GenericData.Fixed(schema, new byte[schema.getFixedSize()]);
      case INT:
        return 7;
      case LONG:
        return 1_700_000_000_000L;
      case FLOAT:
        return 0.5f;
      case DOUBLE:
        return 0.25d;
      case BOOLEAN:
        return true;
      case NULL:
        return null;
      default:
        throw new IllegalArgumentException("no sample for Avro type " + schema.getType());
    }
  }
}
