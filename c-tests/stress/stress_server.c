/*
 * stress_server.c - a multi-threaded TLS server on 127.0.0.1 for the concurrency test.
 *
 *   stress_server [-t THREADS] [-p PORT]
 *
 * One SSL_CTX (the in-memory test certificate, no stateful session cache, so every
 * resumption is a ticket resumption; one TLS 1.3 ticket per connection) shared by THREADS
 * (default 8) threads that each accept on the same listening socket and run the ping/pong
 * exchange of stress.h. Ticket keys are whatever SSL_CTX_new gives: OpenSSL's own, or the
 * shim's managed keys when it is preloaded.
 *
 * Prints "listening on 127.0.0.1:PORT" once it accepts (PORT 0, the default: any free port).
 * On SIGTERM or SIGINT prints
 *   "server: connections=N handshakes=N resumed=N failed=N rss_kb warm=W end=E growth=G"
 * (RSS from /proc/self/statm after the first 1000 connections and at the end)
 * and exits 0 (1 if any connection failed). The first failures are printed as they happen.
 */
#include "stress.h"

#include <pthread.h>
#include <stdatomic.h>

static int listen_fd = -1;
static SSL_CTX *server_ctx;
static atomic_ulong connections, handshakes, resumed, failed;
static atomic_long rss_warm = -1; /* RSS after the first WARM_CONNECTIONS connections */
#define WARM_CONNECTIONS 1000

static void report_failure(const char *what, SSL *ssl, int ret)
{
    unsigned long n = atomic_fetch_add(&failed, 1);
    if (n < 20) {
        char err[256] = "";
        unsigned long e = ERR_get_error();
        if (e != 0)
            ERR_error_string_n(e, err, sizeof err);
        fprintf(stderr, "server: %s failed: ssl error %d, errno %d (%s) %s\n", what,
                ssl != NULL ? SSL_get_error(ssl, ret) : 0, errno, strerror(errno), err);
    }
    ERR_clear_error();
}

static void serve(int fd)
{
    if (atomic_fetch_add(&connections, 1) + 1 == WARM_CONNECTIONS)
        atomic_store(&rss_warm, stress_rss_kb());
    stress_socket_options(fd);
    SSL *ssl = SSL_new(server_ctx);
    HARNESS_REQUIRE(ssl != NULL);
    HARNESS_REQUIRE(SSL_set_fd(ssl, fd) == 1);
    int ret = SSL_accept(ssl);
    if (ret != 1) {
        report_failure("SSL_accept", ssl, ret);
        goto out;
    }
    atomic_fetch_add(&handshakes, 1);
    if (SSL_session_reused(ssl))
        atomic_fetch_add(&resumed, 1);
    char buf[4];
    size_t got = 0, n = 0;
    while (got < sizeof buf) {
        if (SSL_read_ex(ssl, buf + got, sizeof buf - got, &n) != 1) {
            report_failure("SSL_read", ssl, 0);
            goto out;
        }
        got += n;
    }
    if (memcmp(buf, "ping", 4) != 0 || SSL_write_ex(ssl, "pong", 4, &n) != 1 || n != 4) {
        report_failure("ping/pong", ssl, 0);
        goto out;
    }
    SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
                continue;
            perror("accept");
            return NULL;
        }
        serve(fd);
    }
}

int main(int argc, char **argv)
{
    int threads = 8, port = 0, opt;
    while ((opt = getopt(argc, argv, "t:p:")) != -1) {
        switch (opt) {
        case 't': threads = atoi(optarg); break;
        case 'p': port = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-t THREADS] [-p PORT]\n", argv[0]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    /* Only the main thread takes the stop signals (the workers inherit the mask). */
    HARNESS_REQUIRE(pthread_sigmask(SIG_BLOCK, &stop, NULL) == 0);

    server_ctx = harness_server_ctx(0);
    HARNESS_REQUIRE(SSL_CTX_set_num_tickets(server_ctx, 1) == 1);

    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    HARNESS_REQUIRE(listen_fd >= 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    HARNESS_REQUIRE(bind(listen_fd, (struct sockaddr *)&a, sizeof a) == 0);
    HARNESS_REQUIRE(listen(listen_fd, 1024) == 0);
    socklen_t alen = sizeof a;
    HARNESS_REQUIRE(getsockname(listen_fd, (struct sockaddr *)&a, &alen) == 0);

    for (int i = 0; i < threads; i++) {
        pthread_t t;
        HARNESS_REQUIRE(pthread_create(&t, NULL, worker, NULL) == 0);
        pthread_detach(t);
    }
    printf("listening on 127.0.0.1:%d with %d threads\n", ntohs(a.sin_port), threads);
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    unsigned long f = atomic_load(&failed);
    long warm = atomic_load(&rss_warm), end = stress_rss_kb();
    printf("server: connections=%lu handshakes=%lu resumed=%lu failed=%lu rss_kb warm=%ld "
           "end=%ld growth=%ld\n",
           atomic_load(&connections), atomic_load(&handshakes), atomic_load(&resumed), f, warm,
           end, warm < 0 ? 0 : end - warm);
    fflush(stdout);
    /* Workers may be inside OpenSSL: leave without running exit handlers under them. */
    _exit(f == 0 ? 0 : 1);
}
