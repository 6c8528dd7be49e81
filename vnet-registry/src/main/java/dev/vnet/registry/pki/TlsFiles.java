package dev.vnet.registry.pki;

import java.nio.file.Path;

/**
 * The PEM files one end of a mutual-TLS connection needs: the CA both ends trust, its own certificate
 * (the CN is its identity), and that certificate's private key (PKCS#8).
 */
public record TlsFiles(Path caCertificate, Path certificate, Path privateKey) {
    public TlsFiles {
        if (caCertificate == null || certificate == null || privateKey == null) {
            throw new IllegalArgumentException("TLS needs the CA certificate, the certificate and its private key; got "
                    + caCertificate + ", " + certificate + ", " + privateKey);
        }
    }
}
