/*
 * bench_handshake.c - benchmarks 1, 2 and 7: TLS 1.2 and 1.3 handshakes, full and resumed,
 * in one process over memory BIOs, with the server's tickets sealed either by OpenSSL's own
 * ticket code ("openssl": SSL_CTX_set_tlsext_ticket_keys) or by the shim's key ring
 * ("shim": tlsext_ssl_ctx_use_keyring). Both modes use the same 80-byte key, so their tickets
 * are interchangeable. The server's session cache is off: every resumption is a ticket.
 *
 *   bench_handshake time [rounds] [batch]   wall clock; modes interleaved within every round
 *                                           (order alternating), medians over the rounds
 *   bench_handshake count [n] [only]        n handshakes of each case, interleaved, for
 *                                           callgrind (after 5 warm-up handshakes per case and
 *                                           CALLGRIND_ZERO_STATS); `only` restricts to one case
 *
 * Every server-side call (SSL_do_handshake, SSL_free) goes through a non-inlined function
 * named srv_<mode>_<version>_<kind>, so `valgrind --tool=callgrind
 * --toggle-collect='srv_*'` counts exactly the server's instructions per case, and
 * --toggle-collect='*ticket_key_evp_cb*' the shim's callback alone. run.py does both.
 *
 * Output: a readable table and "METRIC name value unit" lines.
 */
#include "bench.h"

BENCH_SERVER_FN(srv_openssl_tls12_full)
BENCH_SERVER_FN(srv_openssl_tls12_resumed)
BENCH_SERVER_FN(srv_openssl_tls13_full)
BENCH_SERVER_FN(srv_openssl_tls13_resumed)
BENCH_SERVER_FN(srv_shim_tls12_full)
BENCH_SERVER_FN(srv_shim_tls12_resumed)
BENCH_SERVER_FN(srv_shim_tls13_full)
BENCH_SERVER_FN(srv_shim_tls13_resumed)

typedef struct bench_case {
    const char *name; /* e.g. "shim_tls12_resumed" */
    bench_server_fn fn;
    int version;
    bool shim, resumed;
    SSL_CTX *server, *client;
    SSL_SESSION *session; /* offered when resumed (TLS 1.3: the newest one) */
    int failures;
} bench_case;

static bench_case cases[] = {
    {.name = "openssl_tls12_full", .fn = srv_openssl_tls12_full, .version = TLS1_2_VERSION, .shim = false, .resumed = false},
    {.name = "shim_tls12_full", .fn = srv_shim_tls12_full, .version = TLS1_2_VERSION, .shim = true, .resumed = false},
    {.name = "openssl_tls12_resumed", .fn = srv_openssl_tls12_resumed, .version = TLS1_2_VERSION, .shim = false, .resumed = true},
    {.name = "shim_tls12_resumed", .fn = srv_shim_tls12_resumed, .version = TLS1_2_VERSION, .shim = true, .resumed = true},
    {.name = "openssl_tls13_full", .fn = srv_openssl_tls13_full, .version = TLS1_3_VERSION, .shim = false, .resumed = false},
    {.name = "shim_tls13_full", .fn = srv_shim_tls13_full, .version = TLS1_3_VERSION, .shim = true, .resumed = false},
    {.name = "openssl_tls13_resumed", .fn = srv_openssl_tls13_resumed, .version = TLS1_3_VERSION, .shim = false, .resumed = true},
    {.name = "shim_tls13_resumed", .fn = srv_shim_tls13_resumed, .version = TLS1_3_VERSION, .shim = true, .resumed = true},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Server calls outside any measured case (making the sessions to resume). */
BENCH_SERVER_FN(srv_setup)

/* Builds every context; makes the session to resume for the resumed cases (only `only`'s
 * when given, so that a callgrind run of one case counts nothing else). */
static void setup(const char *only)
{
    uint8_t key[80]; /* nginx/OpenSSL 80-byte layout: name, HMAC key, AES key */
    harness_random_key(key, sizeof key);
    tlsext_keyring *ring = harness_keyring_with_key(key, 80, TLSEXT_KEY_FORMAT_OPENSSL);
    for (size_t i = 0; i < NCASES; i++) {
        bench_case *c = &cases[i];
        c->server = harness_server_ctx(c->version);
        if (c->shim)
            HARNESS_REQUIRE(tlsext_ssl_ctx_use_keyring(c->server, ring) == TLSEXT_RESULT_OK);
        else
            HARNESS_REQUIRE(SSL_CTX_set_tlsext_ticket_keys(c->server, key, sizeof key) == 1);
        c->client = bench_lean_client(c->version);
    }
    tlsext_keyring_free(ring); /* the contexts keep their references */
    /* A session to resume, from the *other* mode's server (same key: tickets are
     * interchangeable), so that the measured runs of a resumed case need no extra ticket
     * issued by the mode being measured. */
    for (size_t i = 0; i < NCASES; i++) {
        bench_case *c = &cases[i];
        if (!c->resumed || (only != NULL && strcmp(only, c->name) != 0))
            continue;
        bench_case *other = NULL;
        for (size_t j = 0; j < NCASES; j++)
            if (cases[j].version == c->version && cases[j].shim != c->shim && !cases[j].resumed)
                other = &cases[j];
        HARNESS_REQUIRE(other != NULL);
        bench_hs r;
        bench_handshake(other->server, c->client, NULL, srv_setup, &r);
        HARNESS_REQUIRE(r.ok && !r.resumed && r.session != NULL && SSL_SESSION_has_ticket(r.session));
        c->session = r.session;
    }
}

/* One handshake of case c; keeps the newest session for TLS 1.3 resumption chains. */
static void run_one(bench_case *c, bench_hs *r)
{
    bench_handshake(c->server, c->client, c->resumed ? c->session : NULL, c->fn, r);
    if (!r->ok || r->resumed != c->resumed)
        c->failures++;
    if (c->resumed && c->version == TLS1_3_VERSION && r->resumed && r->session != NULL &&
        SSL_SESSION_is_resumable(r->session)) {
        SSL_SESSION_free(c->session);
        c->session = r->session;
    } else {
        SSL_SESSION_free(r->session);
    }
    r->session = NULL;
}

static int count_mode(int n, const char *only)
{
    int done[NCASES] = {0};
    /* Warm up every case (lazy initialisation, first-use caches, allocator growth), then
     * zero callgrind's counters so that only the n measured handshakes per case count. */
    for (int i = 0; i < 5; i++)
        for (size_t k = 0; k < NCASES; k++) {
            if (only != NULL && strcmp(only, cases[k].name) != 0)
                continue;
            bench_hs r;
            run_one(&cases[k], &r);
        }
    CALLGRIND_ZERO_STATS;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < NCASES; k++) {
            if (only != NULL && strcmp(only, cases[k].name) != 0)
                continue;
            bench_hs r;
            run_one(&cases[k], &r);
            done[k]++;
        }
    int failed = 0;
    for (size_t k = 0; k < NCASES; k++) {
        if (done[k] == 0)
            continue;
        printf("METRIC count_%s %d handshakes\n", cases[k].name, done[k]);
        printf("METRIC failures_%s %d handshakes\n", cases[k].name, cases[k].failures);
        failed += cases[k].failures;
    }
    return failed == 0 ? 0 : 1;
}

static int time_mode(int rounds, int batch)
{
    double *srv[NCASES], *tot[NCASES];
    for (size_t k = 0; k < NCASES; k++) {
        HARNESS_REQUIRE((srv[k] = calloc((size_t)rounds, sizeof(double))) != NULL);
        HARNESS_REQUIRE((tot[k] = calloc((size_t)rounds, sizeof(double))) != NULL);
    }
    for (int round = 0; round < rounds; round++) {
        /* Cases come in openssl/shim pairs; alternate which of the pair goes first. */
        for (size_t p = 0; p < NCASES; p += 2)
            for (size_t q = 0; q < 2; q++) {
                size_t k = p + (round % 2 ? 1 - q : q);
                double s = 0, t = 0;
                for (int i = 0; i < batch; i++) {
                    bench_hs r;
                    run_one(&cases[k], &r);
                    s += r.server_ns;
                    t += r.total_ns;
                }
                srv[k][round] = s / batch;
                tot[k][round] = t / batch;
            }
    }
    printf("%-22s %12s %12s %12s %14s %9s\n", "case", "server med", "server p10", "server p90",
           "whole hs med", "failures");
    double med[NCASES];
    int failed = 0;
    for (size_t k = 0; k < NCASES; k++) {
        med[k] = bench_median(srv[k], (size_t)rounds);
        double p10 = bench_pct(srv[k], (size_t)rounds, 10), p90 = bench_pct(srv[k], (size_t)rounds, 90);
        double whole = bench_median(tot[k], (size_t)rounds);
        printf("%-22s %10.1fus %10.1fus %10.1fus %12.1fus %9d\n", cases[k].name, med[k] / 1e3,
               p10 / 1e3, p90 / 1e3, whole / 1e3, cases[k].failures);
        printf("METRIC time_server_%s %.0f ns\n", cases[k].name, med[k]);
        printf("METRIC time_whole_%s %.0f ns\n", cases[k].name, whole);
        failed += cases[k].failures;
        free(srv[k]);
        free(tot[k]);
    }
    for (size_t p = 0; p < NCASES; p += 2)
        printf("METRIC time_ratio_%s %.3f x\n", cases[p + 1].name, med[p + 1] / med[p]);
    printf("(%d rounds of %d handshakes per case; server = time inside the server's own calls)\n",
           rounds, batch);
    return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "time";
    bool count = strcmp(what, "count") == 0;
    setup(count && argc > 3 ? argv[3] : NULL);
    int rc;
    if (count)
        rc = count_mode(argc > 2 ? atoi(argv[2]) : 50, argc > 3 ? argv[3] : NULL);
    else
        rc = time_mode(argc > 2 ? atoi(argv[2]) : 21, argc > 3 ? atoi(argv[3]) : 40);
    for (size_t k = 0; k < NCASES; k++) {
        SSL_SESSION_free(cases[k].session);
        SSL_CTX_free(cases[k].server);
        SSL_CTX_free(cases[k].client);
    }
    harness_free_cert();
    return rc;
}
