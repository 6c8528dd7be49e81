package dev.vnet.registry.server;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

/**
 * Who is calling: put in the gRPC {@link Context} by a server interceptor before any RPC runs. Over TCP
 * it is the subject CN of the client certificate the TLS handshake verified against the registry's CA;
 * over the Unix socket it is fixed ({@link dev.vnet.registry.RegistryService#ADMIN_IDENTITY}), because
 * reaching the socket file (mode 0600) already proves the caller is the registry's own user.
 */
public final class CallerIdentity {
    static final Context.Key<String> KEY = Context.key("vnet-caller-identity");

    private CallerIdentity() {
    }

    /** The identity of the current call, or null outside an intercepted call. */
    public static String current() {
        return KEY.get();
    }

    /** Every call through this interceptor is made by {@code identity}; for the Unix socket and tests. */
    public static ServerInterceptor fixed(String identity) {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                return Contexts.interceptCall(Context.current().withValue(KEY, identity), call, headers, next);
            }
        };
    }

    /** The identity is the CN of the verified TLS client certificate; calls without one are UNAUTHENTICATED. */
    public static ServerInterceptor fromClientCertificate() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String identity = commonName(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                if (identity == null) {
                    call.close(Status.UNAUTHENTICATED.withDescription("a TLS client certificate with a subject CN is required"), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
                return Contexts.interceptCall(Context.current().withValue(KEY, identity), call, headers, next);
            }
        };
    }

    static String commonName(SSLSession session) {
        if (session == null) {
            return null;
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate certificate)) {
                return null;
            }
            RDN[] names = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()).getRDNs(BCStyle.CN);
            return names.length == 1 ? IETFUtils.valueToString(names[0].getFirst().getValue()) : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
