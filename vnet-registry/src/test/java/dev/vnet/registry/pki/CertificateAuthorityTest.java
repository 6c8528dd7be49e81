package dev.vnet.registry.pki;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CertificateAuthorityTest {
    @TempDir
    Path directory;

    private static X509Certificate read(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @Test
    void issuesCertificatesSignedByTheCaWithTheirNamesAndPrivateKeys() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create(directory.resolve("ca"), "vnet-ca");
        TlsFiles files = ca.issue("registry", List.of(InetAddress.getByName("127.0.0.1")), directory.resolve("certs"));

        assertThat(files.certificate()).isEqualTo(directory.resolve("certs/registry.crt"));
        assertThat(files.privateKey()).isEqualTo(directory.resolve("certs/registry.key"));
        assertThat(files.caCertificate()).isEqualTo(directory.resolve("ca/ca.crt"));
        X509Certificate issued = read(files.certificate());
        issued.verify(ca.certificate().getPublicKey());
        assertThat(issued.getSubjectX500Principal().getName()).isEqualTo("CN=registry");
        assertThat(issued.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.1"));
        assertThat(issued.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(issued.getBasicConstraints()).isEqualTo(-1);
        assertThat(ca.certificate().getBasicConstraints()).isEqualTo(0);
        assertThat(Files.readString(files.privateKey())).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.privateKey()))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve("ca/ca.key")))).isEqualTo("rw-------");
        assertThat(ca.issue("h1", List.of(), directory.resolve("certs")).certificate()).exists();
        assertThat(read(directory.resolve("certs/h1.crt")).getSubjectAlternativeNames()).isNull();
    }

    @Test
    void aLoadedCaIssuesCertificatesTheOriginalVerifies() throws Exception {
        CertificateAuthority created = CertificateAuthority.create(directory, "vnet-ca");
        CertificateAuthority loaded = CertificateAuthority.load(directory);
        assertThat(loaded.certificate()).isEqualTo(created.certificate());
        read(loaded.issue("h2", List.of(), directory).certificate()).verify(created.certificate().getPublicKey());
        assertThat(CertificateAuthority.loadOrCreate(directory, "other").certificate()).isEqualTo(created.certificate());
    }

    @Test
    void refusesToOverwriteACaOrUseANameThatIsNoFileName() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create(directory, "vnet-ca");
        assertThatThrownBy(() -> CertificateAuthority.create(directory, "vnet-ca")).isInstanceOf(IOException.class).hasMessageContaining("already exists");
        assertThatThrownBy(() -> ca.issue("../evil", List.of(), directory)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid");
        assertThatThrownBy(() -> CertificateAuthority.load(directory.resolve("missing"))).isInstanceOf(IOException.class);
    }
}
