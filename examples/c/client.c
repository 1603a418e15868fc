/* The walkthrough's echo client in C, call for call as client.py makes them: socket, connect,
 * send in a loop until every byte went (Python's sendall), recv(10) until every byte is back, close.
 *
 *     cc -o client client.c && ./client [PORT] [MESSAGE]     (5000 and "Hello" by default)
 *
 * Exits 0 when the whole message came back, 1 otherwise. Python's try/except/finally is the
 * `goto done` below: whatever fails, the socket is closed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 5000;
    const char *message = argc > 2 ? argv[2] : "Hello";
    size_t total = strlen(message), received = 0;
    int status = 1;
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0) { perror("socket"); return 1; }
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (connect(client, (struct sockaddr *)&address, sizeof address) < 0) { perror("client error: connect"); goto done; }

    size_t sent = 0;                               /* sendall(): send() until every byte went */
    while (sent < total) {
        ssize_t n = send(client, message + sent, total - sent, MSG_NOSIGNAL);
        if (n < 0) { perror("client error: send"); goto done; }
        sent += n;
    }
    while (received < total) {                     /* recv(10) until every byte is back */
        char data[10];
        ssize_t n = recv(client, data, sizeof data, 0);
        if (n <= 0) break;
        received += n;
        printf("client Received: %.*s\n", (int)n, data);
        fflush(stdout);
    }
    status = received == total ? 0 : 1;
done:
    printf("closing connection to the server\n");
    fflush(stdout);
    close(client);
    return status;
}
