package dev.vnet.dataplane.counters;

import java.nio.charset.StandardCharsets;

/**
 * Layout of a counters file, shared by the writing agent and any reading process.
 *
 * <pre>
 *  header (64 bytes)
 *   0  magic "VNETCTR1"        8 bytes
 *   8  layout version (1)      int
 *  12  record capacity         int
 *  16  records in use          int   (written after the record's label, read with acquire)
 *  20  agent state             int   (see {@link AgentState})
 *  24  agent pid               long
 *  32  agent start, epoch ms   long
 *  record i at 64 + i * 128
 *   0  value                   long  (8-aligned; updated atomically, read without locks)
 *   8  label length            int
 *  12  label, UTF-8            up to 116 bytes
 * </pre>
 *
 * The file is memory-mapped by both sides, so {@code vnet agent stats} reads a live agent without
 * asking it anything and the agent's hot path pays one atomic add per counter update.
 */
public final class CountersLayout {
    static final long MAGIC = 0x5645_4E54_4354_5231L; // "VNETCTR1"
    static final int VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 8;
    static final int CAPACITY_OFFSET = 12;
    static final int USED_OFFSET = 16;
    static final int STATE_OFFSET = 20;
    static final int PID_OFFSET = 24;
    static final int START_OFFSET = 32;
    static final int HEADER_LENGTH = 64;
    static final int RECORD_LENGTH = 128;
    static final int VALUE_OFFSET = 0;
    static final int LABEL_LENGTH_OFFSET = 8;
    static final int LABEL_OFFSET = 12;
    static final int MAX_LABEL_BYTES = RECORD_LENGTH - LABEL_OFFSET;

    private CountersLayout() {
    }

    static long fileLength(int capacity) {
        return HEADER_LENGTH + (long) capacity * RECORD_LENGTH;
    }

    static long recordOffset(int index) {
        return HEADER_LENGTH + (long) index * RECORD_LENGTH;
    }

    static byte[] encodeLabel(String label) {
        byte[] bytes = label.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_LABEL_BYTES) {
            throw new IllegalArgumentException("counter label longer than " + MAX_LABEL_BYTES + " bytes: " + label);
        }
        return bytes;
    }
}
