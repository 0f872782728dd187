/*
 * flip_client.c - every single-bit flip of a real ticket, presented to a real server.
 *
 *   flip_client PORT [tls1.2|tls1.3|both]
 *
 * Against an HTTP server on 127.0.0.1:PORT that issues tickets (the tests use a preloaded
 * `openssl s_server -www -no_cache`), for each version:
 *   1. a full handshake yields a session with a ticket, and that session resumes (sanity);
 *   2. for every bit of the ticket, a copy of the session whose ticket has that bit flipped is
 *      offered: the handshake must complete (a full handshake, the request answered) and must
 *      NOT resume;
 *   3. the unmodified session still resumes: the server is up and its keys are intact.
 * Prints one summary line per version; exits 0 when everything held, 1 otherwise.
 */
#include "stress.h"

static const char request[] = "GET / HTTP/1.0\r\n\r\n";

/* A fresh copy of `sess` (through its DER): an OpenSSL TLS 1.3 client uses a session once and
 * then marks it not resumable, so every offer of the original ticket gets its own copy. */
static SSL_SESSION *copy_of(const SSL_SESSION *sess)
{
    size_t len = 0;
    const uint8_t *t = harness_ticket(sess, &len);
    SSL_SESSION *out = harness_session_with_ticket(sess, t, len);
    HARNESS_REQUIRE(out != NULL);
    return out;
}

/* Copy of `sess` with bit `bit` of its ticket flipped. */
static SSL_SESSION *flipped(const SSL_SESSION *sess, size_t bit)
{
    size_t len = 0;
    const uint8_t *t = harness_ticket(sess, &len);
    uint8_t *copy = malloc(len);
    HARNESS_REQUIRE(copy != NULL && bit / 8 < len);
    memcpy(copy, t, len);
    copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    SSL_SESSION *out = harness_session_with_ticket(sess, copy, len);
    free(copy);
    return out;
}

static int run(int port, int version, const char *name)
{
    SSL_CTX *ctx = stress_client_ctx(version);
    stress_conn c;
    int problems = 0;

    stress_client_conn(ctx, port, NULL, request, sizeof request - 1, 0, &c);
    if (!c.ok || c.session == NULL || stress_ticket_name(c.session) == NULL) {
        printf("%s: no ticket from a full handshake: %s\n", name, c.ok ? "no ticket" : c.error);
        SSL_SESSION_free(c.session);
        SSL_CTX_free(ctx);
        return 1;
    }
    SSL_SESSION *orig = c.session;
    size_t tlen = 0;
    harness_ticket(orig, &tlen);

    SSL_SESSION *copy = copy_of(orig);
    stress_client_conn(ctx, port, copy, request, sizeof request - 1, 0, &c);
    SSL_SESSION_free(copy);
    if (!c.ok || !c.reused) {
        printf("%s: the unmodified ticket does not resume (sanity): %s\n", name,
               c.ok ? "full handshake" : c.error);
        problems++;
    }
    SSL_SESSION_free(c.session);

    size_t flips = 0, resumed = 0, failed = 0;
    double t0 = stress_now();
    for (size_t bit = 0; bit < tlen * 8; bit++) {
        SSL_SESSION *bad = flipped(orig, bit);
        HARNESS_REQUIRE(bad != NULL);
        stress_client_conn(ctx, port, bad, request, sizeof request - 1, 0, &c);
        flips++;
        if (!c.ok) {
            if (failed++ < 10)
                printf("%s: bit %zu (byte %zu): handshake failed: %s\n", name, bit, bit / 8,
                       c.error);
        } else if (c.reused) {
            if (resumed++ < 10)
                printf("%s: bit %zu (byte %zu): RESUMED with a flipped ticket\n", name, bit,
                       bit / 8);
        }
        SSL_SESSION_free(c.session);
        SSL_SESSION_free(bad);
    }
    double secs = stress_now() - t0;

    copy = copy_of(orig);
    stress_client_conn(ctx, port, copy, request, sizeof request - 1, 0, &c);
    SSL_SESSION_free(copy);
    bool clean = c.ok && c.reused;
    if (!clean)
        printf("%s: the unmodified ticket no longer resumes after the flips: %s\n", name,
               c.ok ? "full handshake" : c.error);
    SSL_SESSION_free(c.session);

    printf("%s: ticket %zu bytes, %zu single-bit flips in %.1fs: %zu resumed, %zu failed "
           "handshakes; unmodified ticket afterwards: %s\n",
           name, tlen, flips, secs, resumed, failed, clean ? "resumed" : "NOT resumed");
    fflush(stdout);
    SSL_SESSION_free(orig);
    SSL_CTX_free(ctx);
    return problems + (resumed != 0) + (failed != 0) + !clean;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PORT [tls1.2|tls1.3|both]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int port = atoi(argv[1]);
    const char *which = argc == 3 ? argv[2] : "both";
    int problems = 0;
    if (strcmp(which, "tls1.3") != 0)
        problems += run(port, TLS1_2_VERSION, "TLSv1.2");
    if (strcmp(which, "tls1.2") != 0)
        problems += run(port, TLS1_3_VERSION, "TLSv1.3");
    return problems == 0 ? 0 : 1;
}
