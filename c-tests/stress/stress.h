/*
 * stress.h - what the stress programs share: the c-tests harness (without the shim's header:
 * these are plain OpenSSL programs that the tests run with LD_PRELOAD), loopback sockets, one
 * client connection with the ping/pong exchange the stress server answers, time and RSS.
 *
 * The exchange: the client handshakes, writes "ping", reads "pong" (in TLS 1.3 the server's
 * NewSessionTickets arrive before it), sends close_notify and closes; the server handshakes,
 * reads "ping", writes "pong", sends close_notify and closes. Both ignore SIGPIPE.
 */
#ifndef TLSEXT_STRESS_H
#define TLSEXT_STRESS_H

#define HARNESS_NO_SHIM
#include "../harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>

/* The stress programs report with their own counters, not CHECK/RUN; this keeps the harness's
 * counters "used" under -Werror. */
static inline int stress_harness_counters(void)
{
    return harness_tests_passed + harness_tests_failed + harness_current_failures;
}

/* Seconds a socket may block in one read or write before the connection counts as failed. */
#define STRESS_IO_TIMEOUT 10

static inline double stress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size in KiB, from /proc/self/statm. */
static inline long stress_rss_kb(void)
{
    long pages_total = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    int n = fscanf(f, "%ld %ld", &pages_total, &pages_resident);
    fclose(f);
    if (n != 2)
        return -1;
    return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static inline void stress_socket_options(int fd)
{
    int one = 1;
    struct timeval tv = {STRESS_IO_TIMEOUT, 0};
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* A TCP connection to 127.0.0.1:port, or -1. */
static inline int stress_connect(int port)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        stress_socket_options(fd);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        int err = errno;
        close(fd);
        /* A full accept backlog or a port shortage is a reason to wait, not a failure. */
        if (err != EAGAIN && err != EADDRNOTAVAIL && err != ECONNREFUSED)
            return -1;
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return -1;
}

/* A client context for `version` (0: TLS 1.2 and 1.3): no verification, sessions kept by us. */
static inline SSL_CTX *stress_client_ctx(int version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    HARNESS_REQUIRE(ctx != NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    harness_set_version(ctx, version);
    return ctx;
}

typedef struct stress_conn {
    bool ok;              /* handshake done and the request answered */
    bool reused;          /* SSL_session_reused */
    int version;          /* SSL_version */
    SSL_SESSION *session; /* SSL_get1_session after the exchange (caller frees), or NULL */
    char error[256];      /* what failed, when !ok */
} stress_conn;

static inline void stress_fail(stress_conn *r, const char *what, ...)
{
    va_list ap;
    va_start(ap, what);
    int n = vsnprintf(r->error, sizeof r->error, what, ap);
    va_end(ap);
    unsigned long e = ERR_get_error();
    if (e != 0 && n > 0 && (size_t)n < sizeof r->error - 2) {
        r->error[n] = ':';
        r->error[n + 1] = ' ';
        ERR_error_string_n(e, r->error + n + 2, sizeof r->error - (size_t)n - 2);
    }
    ERR_clear_error();
}

/*
 * One connection to 127.0.0.1:port offering `resume` (may be NULL). `request`/`request_len`:
 * what to send after the handshake; the reply is read until `reply_len` bytes arrived or, when
 * reply_len is 0, until the server closes. Fills *r (r->session: caller frees).
 */
static inline void stress_client_conn(SSL_CTX *ctx, int port, SSL_SESSION *resume,
                                      const char *request, size_t request_len, size_t reply_len,
                                      stress_conn *r)
{
    memset(r, 0, sizeof *r);
    ERR_clear_error();
    int fd = stress_connect(port);
    if (fd < 0) {
        stress_fail(r, "connect: %s", strerror(errno));
        return;
    }
    SSL *ssl = SSL_new(ctx);
    HARNESS_REQUIRE(ssl != NULL);
    HARNESS_REQUIRE(SSL_set_fd(ssl, fd) == 1);
    HARNESS_REQUIRE(SSL_set_tlsext_host_name(ssl, "localhost") == 1);
    if (resume != NULL)
        HARNESS_REQUIRE(SSL_set_session(ssl, resume) == 1);
    int ret = SSL_connect(ssl);
    if (ret != 1) {
        stress_fail(r, "SSL_connect: %d (errno %d)", SSL_get_error(ssl, ret), errno);
        goto out;
    }
    r->reused = SSL_session_reused(ssl) == 1;
    r->version = SSL_version(ssl);
    size_t w = 0;
    if (SSL_write_ex(ssl, request, request_len, &w) != 1 || w != request_len) {
        stress_fail(r, "SSL_write");
        goto out;
    }
    char buf[4096];
    size_t got = 0;
    for (;;) {
        size_t n = 0;
        if (reply_len != 0 && got >= reply_len)
            break;
        if (SSL_read_ex(ssl, buf, reply_len != 0 ? reply_len - got : sizeof buf, &n) != 1) {
            int err = SSL_get_error(ssl, 0);
            if (reply_len == 0 && err == SSL_ERROR_ZERO_RETURN)
                break;
            stress_fail(r, "SSL_read after %zu bytes: %d (errno %d)", got, err, errno);
            goto out;
        }
        got += n;
    }
    if (got == 0) {
        stress_fail(r, "no reply");
        goto out;
    }
    r->ok = true;
    r->session = SSL_get1_session(ssl);
    SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
}

/* The 16-byte key name a session's ticket starts with, or NULL without a ticket. */
static inline const uint8_t *stress_ticket_name(const SSL_SESSION *sess)
{
    size_t len = 0;
    const uint8_t *t = harness_ticket(sess, &len);
    return len >= 16 ? t : NULL;
}

#endif /* TLSEXT_STRESS_H */
