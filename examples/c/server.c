/* The walkthrough's echo server in C, call for call as server.py makes them: socket, bind
 * (127.0.0.1, PORT), listen(5), an accept loop, recv(2048) and send until the client closes, close.
 *
 *     cc -o server server.c && ./server [PORT]      (5000 by default; 0 picks a free port)
 *
 * What Python does for you and C does not: getaddrinfo("localhost") (here the address is written
 * out), the SO_REUSEADDR option (set here as server.py sets it), sendall()'s loop (here written out),
 * turning errors into exceptions (here: perror and exit). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 5000;
    int server = socket(AF_INET, SOCK_STREAM, 0);
    if (server < 0) { perror("socket"); return 1; }
    int one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (bind(server, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); return 1; }
    if (listen(server, 5) < 0) { perror("listen"); return 1; }
    socklen_t length = sizeof address;
    getsockname(server, (struct sockaddr *)&address, &length);
    printf("server start, listening 127.0.0.1:%d\n", ntohs(address.sin_port));
    fflush(stdout);

    for (;;) {
        struct sockaddr_in peer;
        socklen_t peerLength = sizeof peer;
        int conn = accept(server, (struct sockaddr *)&peer, &peerLength);
        if (conn < 0) { perror("accept"); continue; }
        char host[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &peer.sin_addr, host, sizeof host);
        printf("server Connected by %s:%d\n", host, ntohs(peer.sin_port));
        fflush(stdout);
        char data[2048];
        ssize_t count;
        while ((count = recv(conn, data, sizeof data, 0)) > 0) {
            printf("server Recv Data: %zd bytes from %s:%d\n", count, host, ntohs(peer.sin_port));
            fflush(stdout);
            ssize_t sent = 0;
            while (sent < count) {                 /* Python's send() may send less too: loop */
                ssize_t n = send(conn, data + sent, count - sent, MSG_NOSIGNAL);
                if (n < 0) { perror("send"); break; }
                sent += n;
            }
        }
        printf("server Recv Over from %s:%d\n", host, ntohs(peer.sin_port));
        fflush(stdout);
        close(conn);
    }
}
