package dev.vnet.wire.vsock;

/**
 * A frame's payload does not hold what its op says: a field cut short, a {@code str} whose length runs
 * past the payload or whose bytes are not UTF-8, bytes left over after the last field. A protocol
 * violation by the peer (docs/vsock.md: the receiver says {@code GOODBYE} and closes the session), not
 * a bug here, so it carries no stack trace.
 */
public final class MalformedPayloadException extends RuntimeException {
    private final int op;
    private final boolean reply;
    private final String field;

    /**
     * @param op    the op whose payload it is; for a reply, the op of the request it answers
     * @param reply whether the payload is a {@link VsockFrame#OP_REPLY}'s
     * @param field the field at fault, as docs/vsock.md names it ("URI", "initial credit"), or "payload"
     * @param problem what is wrong with it, continuing a sentence that starts with the field's name
     */
    public MalformedPayloadException(int op, boolean reply, String field, String problem) {
        super(VsockFrame.opName(op) + (reply ? " reply" : "") + ": " + field + " " + problem, null, false, false);
        this.op = op;
        this.reply = reply;
        this.field = field;
    }

    public int op() {
        return op;
    }

    public boolean reply() {
        return reply;
    }

    public String field() {
        return field;
    }
}
