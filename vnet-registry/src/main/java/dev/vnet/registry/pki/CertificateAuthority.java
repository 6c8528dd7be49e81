package dev.vnet.registry.pki;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * The CA whose certificates are the registry's identities: the registry's server certificate (with the
 * address clients dial as an IP subject alternative name) and one client certificate per host agent
 * (CN = host name) and for the administrator (CN = admin). EC P-256 keys, ECDSA-SHA256 signatures.
 *
 * <p>Files are PEM: {@code ca.crt}/{@code ca.key} in the CA's directory, {@code <cn>.crt}/{@code <cn>.key}
 * where {@link #issue} is told. Private keys are PKCS#8 and created mode 0600, then moved into place, so
 * no other user can ever read one.
 */
public final class CertificateAuthority {
    public static final String CERTIFICATE_FILE = "ca.crt";
    public static final String KEY_FILE = "ca.key";
    public static final Duration CA_VALIDITY = Duration.ofDays(3650);
    public static final Duration CERTIFICATE_VALIDITY = Duration.ofDays(825);
    /** Back-dates certificates so that a host whose clock is a little behind accepts them at once. */
    private static final Duration CLOCK_SLACK = Duration.ofHours(1);
    private static final String SIGNATURE = "SHA256withECDSA";

    private final X509Certificate certificate;
    private final PrivateKey key;
    private final Path certificateFile;
    private final SecureRandom random = new SecureRandom();

    private CertificateAuthority(X509Certificate certificate, PrivateKey key, Path certificateFile) {
        this.certificate = certificate;
        this.key = key;
        this.certificateFile = certificateFile;
    }

    /** Creates a new CA in {@code directory} (made if missing); refuses to overwrite an existing one. */
    public static CertificateAuthority create(Path directory, String commonName) throws IOException {
        checkName(commonName);
        Path certificateFile = directory.resolve(CERTIFICATE_FILE);
        if (Files.exists(certificateFile) || Files.exists(directory.resolve(KEY_FILE))) {
            throw new IOException("a CA already exists in " + directory + "; load it instead");
        }
        Files.createDirectories(directory);
        KeyPair pair = newKeyPair();
        X500Name subject = name(commonName);
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(127, new SecureRandom()),
                    Date.from(now.minus(CLOCK_SLACK)), Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate certificate = sign(builder, pair.getPrivate());
            writePrivateKey(directory.resolve(KEY_FILE), pair.getPrivate());
            writeCertificate(certificateFile, certificate);
            return new CertificateAuthority(certificate, pair.getPrivate(), certificateFile);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot create the CA: " + e.getMessage(), e);
        }
    }

    /** Loads the CA that {@link #create} wrote to {@code directory}. */
    public static CertificateAuthority load(Path directory) throws IOException {
        Path certificateFile = directory.resolve(CERTIFICATE_FILE);
        return new CertificateAuthority(readCertificate(certificateFile), readPrivateKey(directory.resolve(KEY_FILE)), certificateFile);
    }

    /** Loads the CA in {@code directory}, or creates it there if there is none. */
    public static CertificateAuthority loadOrCreate(Path directory, String commonName) throws IOException {
        return Files.exists(directory.resolve(CERTIFICATE_FILE)) ? load(directory) : create(directory, commonName);
    }

    /**
     * Issues a certificate for {@code commonName} (the identity) valid for TLS client and server use,
     * with a new key, writing {@code <commonName>.crt} and {@code <commonName>.key} to {@code directory}
     * (replacing earlier ones).
     *
     * @param ipSubjectAltNames the addresses a server certificate is dialled at; empty for a client-only one
     * @return the files to hand to the registry server or client
     */
    public TlsFiles issue(String commonName, List<InetAddress> ipSubjectAltNames, Path directory) throws IOException {
        checkName(commonName);
        Files.createDirectories(directory);
        KeyPair pair = newKeyPair();
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, new BigInteger(127, random),
                    Date.from(now.minus(CLOCK_SLACK)), Date.from(now.plus(CERTIFICATE_VALIDITY)), name(commonName), pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[]{KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(pair.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(certificate));
            if (!ipSubjectAltNames.isEmpty()) {
                GeneralName[] names = ipSubjectAltNames.stream()
                        .map(address -> new GeneralName(GeneralName.iPAddress, address.getHostAddress())).toArray(GeneralName[]::new);
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            X509Certificate issued = sign(builder, key);
            Path keyFile = directory.resolve(commonName + ".key");
            Path certificateOut = directory.resolve(commonName + ".crt");
            writePrivateKey(keyFile, pair.getPrivate());
            writeCertificate(certificateOut, issued);
            return new TlsFiles(certificateFile, certificateOut, keyFile);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IOException("cannot issue a certificate for " + commonName + ": " + e.getMessage(), e);
        }
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public Path certificateFile() {
        return certificateFile;
    }

    private static void checkName(String commonName) {
        if (commonName == null || !commonName.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("certificate name '" + commonName
                    + "' is invalid: use 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit (it names files)");
        }
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
    }

    private static KeyPair newKeyPair() throws IOException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot generate an EC P-256 key: " + e.getMessage(), e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static String pem(Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        return text.toString();
    }

    private static void writePrivateKey(Path file, PrivateKey key) throws IOException {
        writeAtomically(file, pem(new PemObject("PRIVATE KEY", key.getEncoded())), "rw-------");
    }

    private static void writeCertificate(Path file, X509Certificate certificate) throws IOException {
        writeAtomically(file, pem(certificate), "rw-r--r--");
    }

    /** Writes a new file with {@code permissions} from its creation on, then moves it over {@code file}. */
    private static void writeAtomically(Path file, String text, String permissions) throws IOException {
        Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
        try {
            Files.writeString(temporary, text, StandardCharsets.US_ASCII);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static X509Certificate readCertificate(Path file) throws IOException {
        try (PEMParser parser = new PEMParser(Files.newBufferedReader(file, StandardCharsets.US_ASCII))) {
            Object object = parser.readObject();
            if (!(object instanceof org.bouncycastle.cert.X509CertificateHolder holder)) {
                throw new IOException(file + " holds no PEM certificate");
            }
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the certificate " + file + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey readPrivateKey(Path file) throws IOException {
        try (PEMParser parser = new PEMParser(Files.newBufferedReader(file, StandardCharsets.US_ASCII))) {
            Object object = parser.readObject();
            if (!(object instanceof PrivateKeyInfo info)) {
                throw new IOException(file + " holds no PKCS#8 private key (BEGIN PRIVATE KEY)");
            }
            return new JcaPEMKeyConverter().getPrivateKey(info);
        }
    }
}
