package dev.vnet.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A plain TCP file transfer, run as a process inside a VM namespace by the integration test: the
 * receiver writes everything until the sender closes, so the file's checksum proves the bytes.
 * {@code receive PORT FILE} or {@code send HOST PORT FILE}.
 */
public final class TcpFilePeer {
    private TcpFilePeer() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("receive")) {
            try (ServerSocket server = new ServerSocket(Integer.parseInt(args[1]), 1, InetAddress.getByName("0.0.0.0"));
                 Socket connection = server.accept();
                 InputStream in = connection.getInputStream();
                 OutputStream out = Files.newOutputStream(Path.of(args[2]))) {
                in.transferTo(out);
            }
        } else {
            try (Socket socket = new Socket(args[1], Integer.parseInt(args[2]));
                 InputStream in = Files.newInputStream(Path.of(args[3]));
                 OutputStream out = socket.getOutputStream()) {
                in.transferTo(out);
                socket.shutdownOutput();
                socket.getInputStream().read(); // wait for the receiver to close: everything arrived
            }
        }
    }
}
