/*
 * churn.c - SSL_CTX and connection churn, for leaks: the tests run it with the shim preloaded
 * and managed ticket keys, so every SSL_CTX_new attaches the shim's per-context state and every
 * connection seals and opens tickets through it.
 *
 *   churn [-c CTX_CYCLES] [-n CONNECTIONS] [-m MAX_GROWTH_KB]
 *
 * 1. CTX_CYCLES times (default 100 000): SSL_CTX_new(TLS_server_method()), give it the
 *    certificate and key, SSL_CTX_free.
 * 2. CONNECTIONS in-memory handshakes (default 100 000, harness_handshake over a BIO pair)
 *    against one server context, alternating TLS 1.2 and 1.3 clients that each offer the
 *    session of their previous connection (a fresh one every 50th).
 * For each phase, the resident set size (/proc/self/statm) after a warm-up tenth and at the end:
 *   "ctx: cycles=N rss_kb warm=A end=B growth=C"
 *   "connections: n=N resumed=R failed=F rss_kb warm=A end=B growth=C"
 * Exits 1 when a handshake failed, a resumption was missed, or RSS grew by more than
 * MAX_GROWTH_KB (default 1024) in a phase. Under valgrind, run small counts.
 */
#include "stress.h"

static long ctx_cycles = 100000, connections = 100000, max_growth_kb = 1024;

static void ctx_cycle(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    HARNESS_REQUIRE(ctx != NULL);
    HARNESS_REQUIRE(SSL_CTX_use_certificate(ctx, harness_cert) == 1);
    HARNESS_REQUIRE(SSL_CTX_use_PrivateKey(ctx, harness_key) == 1);
    SSL_CTX_free(ctx);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "c:n:m:")) != -1) {
        switch (opt) {
        case 'c': ctx_cycles = atol(optarg); break;
        case 'n': connections = atol(optarg); break;
        case 'm': max_growth_kb = atol(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-c CTX_CYCLES] [-n CONNECTIONS] [-m MAX_GROWTH_KB]\n",
                    argv[0]);
            return 2;
        }
    }
    harness_make_cert();
    int problems = 0;

    long warm_at = ctx_cycles / 10, warm = stress_rss_kb();
    double t0 = stress_now();
    for (long i = 0; i < ctx_cycles; i++) {
        if (i == warm_at)
            warm = stress_rss_kb();
        ctx_cycle();
    }
    long end = stress_rss_kb();
    printf("ctx: cycles=%ld in %.1fs rss_kb warm=%ld end=%ld growth=%ld\n", ctx_cycles,
           stress_now() - t0, warm, end, end - warm);
    if (end - warm > max_growth_kb)
        problems++;

    SSL_CTX *sctx = harness_server_ctx(0);
    SSL_CTX *cctx[2] = {harness_client_ctx(TLS1_2_VERSION), harness_client_ctx(TLS1_3_VERSION)};
    SSL_SESSION *sess[2] = {NULL, NULL};
    long resumed = 0, attempts = 0, failed = 0;
    warm_at = connections / 10;
    warm = stress_rss_kb();
    t0 = stress_now();
    for (long i = 0; i < connections; i++) {
        if (i == warm_at)
            warm = stress_rss_kb();
        int v = (int)(i % 2);
        if ((i / 2) % 50 == 0) {
            SSL_SESSION_free(sess[v]);
            sess[v] = NULL;
        }
        hs_result r;
        harness_handshake(sctx, cctx[v], sess[v], &r);
        if (!r.ok)
            failed++;
        if (sess[v] != NULL) {
            attempts++;
            resumed += r.resumed;
        }
        SSL_SESSION_free(sess[v]);
        sess[v] = r.session;
        r.session = NULL;
        hs_result_clear(&r);
    }
    end = stress_rss_kb();
    printf("connections: n=%ld in %.1fs resumed=%ld/%ld failed=%ld rss_kb warm=%ld end=%ld "
           "growth=%ld\n",
           connections, stress_now() - t0, resumed, attempts, failed, warm, end, end - warm);
    if (failed != 0 || resumed != attempts || end - warm > max_growth_kb)
        problems++;
    SSL_SESSION_free(sess[0]);
    SSL_SESSION_free(sess[1]);
    SSL_CTX_free(cctx[0]);
    SSL_CTX_free(cctx[1]);
    SSL_CTX_free(sctx);
    harness_free_cert();
    fflush(stdout);
    return problems == 0 ? 0 : 1;
}
