package io.jfrebpf.agent.jfr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jfrebpf.events.EbpfEvent;
import io.jfrebpf.events.EbpfEvents;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The encoders the build generated (agent/gen/CatalogFieldsSource.java) against the catalog
 * read by reflection: the same classes, the same fields in the order Metadata declares them,
 * and each field's bytes as the chunk format has its type.
 */
class CatalogFieldsTest {
    @Test
    void theEncodedClassesAreTheCatalogInItsOrder() {
        assertEquals(EbpfEvents.ALL, List.of(CatalogFields.CLASSES));
    }

    @Test
    void eachClassHasItsPublicFieldsAndTypesInDeclarationOrder() {
        for (int i = 0; i < CatalogFields.CLASSES.length; i++) {
            List<String> names = new ArrayList<>();
            for (Field f : ChunkRoundTripTest.publicFields(CatalogFields.CLASSES[i])) {
                names.add(f.getName() + " " + f.getType().getName());
            }
            assertEquals(names, List.of(CatalogFields.FIELDS[i]), CatalogFields.CLASSES[i].getName());
        }
    }

    @Test
    void eachFieldIsEncodedAsReflectionReadsIt() throws Exception {
        for (int i = 0; i < EbpfEvents.ALL.size(); i++) {
            Class<? extends EbpfEvent> c = EbpfEvents.ALL.get(i);
            for (int variant = 0; variant < 3; variant++) {
                EbpfEvent e = ChunkRoundTripTest.sample(c, i + 1);
                for (Field f : ChunkRoundTripTest.publicFields(c)) {
                    if (f.getType() == String.class && variant > 0) {
                        f.set(e, variant == 1 ? null : ""); // null and empty are written inline, not pooled
                    }
                }
                EventEncoder generated = new EventEncoder(1024);
                ChunkPools generatedPools = new ChunkPools();
                CatalogFields.encode(i, e, generated, generatedPools);
                EventEncoder reflected = new EventEncoder(1024);
                ChunkPools reflectedPools = new ChunkPools();
                for (Field f : ChunkRoundTripTest.publicFields(c)) {
                    byReflection(reflected, reflectedPools, f, e);
                }
                assertArrayEquals(reflected.toByteArray(), generated.toByteArray(), c.getName() + " variant " + variant);
                assertEquals(reflectedPools.weight(), generatedPools.weight(), c.getName() + " pooled strings");
            }
        }
    }

    @Test
    void anIndexOutsideTheCatalogIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> CatalogFields.encode(CatalogFields.CLASSES.length, null, new EventEncoder(16), new ChunkPools()));
    }

    /** What the chunk format makes of a field of each Java type (EventEncoder's comment). */
    private static void byReflection(EventEncoder out, ChunkPools pools, Field f, Object event) throws IllegalAccessException {
        Class<?> t = f.getType();
        if (t == String.class) {
            String s = (String) f.get(event);
            if (s == null) {
                out.rawByte(EventEncoder.STRING_NULL);
            } else if (s.isEmpty()) {
                out.rawByte(EventEncoder.STRING_EMPTY);
            } else {
                out.pooledString(pools.string(s));
            }
        } else if (t == long.class) {
            out.varLong(f.getLong(event));
        } else if (t == int.class) {
            out.varLong(f.getInt(event) & 0xffffffffL);
        } else if (t == boolean.class) {
            out.rawByte(f.getBoolean(event) ? 1 : 0);
        } else if (t == double.class) {
            out.rawLong(Double.doubleToLongBits(f.getDouble(event)));
        } else if (t == float.class) {
            out.rawInt(Float.floatToIntBits(f.getFloat(event)));
        } else if (t == short.class) {
            out.varLong(f.getShort(event) & 0xffffL);
        } else if (t == byte.class) {
            out.rawByte(f.getByte(event));
        } else if (t == char.class) {
            out.varLong(f.getChar(event));
        } else {
            throw new AssertionError("no JFR type for " + f);
        }
    }
}
