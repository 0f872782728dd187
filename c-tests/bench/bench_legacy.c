/*
 * bench_legacy.c - benchmark 1's what-if: could a ticket-key callback of the *legacy* kind
 * (SSL_CTX_set_tlsext_ticket_key_cb, HMAC_CTX) make a resumed TLS 1.2 handshake 5% cheaper
 * for the server than OpenSSL's built-in keys, where the shim's EVP callback cannot?
 *
 * The legacy callback is the one OpenSSL 3 API that lets a callback copy an already keyed MAC
 * (HMAC_CTX_copy) instead of keying a fresh one per ticket, and with it libssl skips its
 * per-ticket EVP_MAC_fetch("HMAC"). This program gives that route its best case: one key,
 * MAC and cipher contexts keyed once and copied per ticket, no lookup, no bookkeeping. It is
 * an experiment, not something the shim installs (tlsext_ssl_ctx_use_keyring installs the EVP
 * callback, as specified).
 *
 *   bench_legacy count [n]          n resumed TLS 1.2 handshakes per mode, for callgrind:
 *                                   valgrind --tool=callgrind --toggle-collect='srv_*'
 *   bench_legacy time [rounds] [batch]   interleaved wall-clock medians
 *
 * Modes: openssl (SSL_CTX_set_tlsext_ticket_keys), shim (tlsext_ssl_ctx_use_keyring), legacy
 * (the callback below). All three use the same 80-byte key, so every ticket opens everywhere.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the legacy callback and HMAC_CTX are the point here */

#include <openssl/hmac.h>

#include "bench.h"

BENCH_SERVER_FN(srv_openssl_tls12_resumed)
BENCH_SERVER_FN(srv_shim_tls12_resumed)
BENCH_SERVER_FN(srv_legacy_tls12_resumed)
BENCH_SERVER_FN(srv_setup)

typedef struct mode {
    const char *name;
    bench_server_fn fn;
    SSL_CTX *server;
    SSL_SESSION *session;
    int failures;
} mode;

static mode modes[] = {
    {.name = "openssl_tls12_resumed", .fn = srv_openssl_tls12_resumed},
    {.name = "shim_tls12_resumed", .fn = srv_shim_tls12_resumed},
    {.name = "legacy_tls12_resumed", .fn = srv_legacy_tls12_resumed},
};
#define NMODES (sizeof modes / sizeof modes[0])

/* The legacy callback's one key, keyed once. */
static uint8_t key[80]; /* OpenSSL layout: name(16), HMAC key(32), AES-256 key(32) */
static HMAC_CTX *mac_template;
static EVP_CIPHER_CTX *enc_template, *dec_template;

static int legacy_cb(SSL *s, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     HMAC_CTX *hctx, int enc)
{
    (void)s;
    if (enc) {
        memcpy(name, key, 16);
        if (RAND_bytes(iv, 16) != 1 || EVP_CIPHER_CTX_copy(cctx, enc_template) != 1 ||
            EVP_EncryptInit_ex(cctx, NULL, NULL, NULL, iv) != 1 || HMAC_CTX_copy(hctx, mac_template) != 1)
            return -1;
        return 1;
    }
    if (CRYPTO_memcmp(name, key, 16) != 0)
        return 0;
    if (EVP_CIPHER_CTX_copy(cctx, dec_template) != 1 || EVP_DecryptInit_ex(cctx, NULL, NULL, NULL, iv) != 1 ||
        HMAC_CTX_copy(hctx, mac_template) != 1)
        return -1;
    return 1;
}

static void setup(void)
{
    harness_random_key(key, sizeof key);
    HARNESS_REQUIRE((mac_template = HMAC_CTX_new()) != NULL);
    HARNESS_REQUIRE(HMAC_Init_ex(mac_template, key + 16, 32, EVP_sha256(), NULL) == 1);
    EVP_CIPHER *aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    HARNESS_REQUIRE(aes != NULL);
    HARNESS_REQUIRE((enc_template = EVP_CIPHER_CTX_new()) != NULL);
    HARNESS_REQUIRE((dec_template = EVP_CIPHER_CTX_new()) != NULL);
    HARNESS_REQUIRE(EVP_EncryptInit_ex(enc_template, aes, NULL, key + 48, NULL) == 1);
    HARNESS_REQUIRE(EVP_DecryptInit_ex(dec_template, aes, NULL, key + 48, NULL) == 1);
    EVP_CIPHER_free(aes);

    tlsext_keyring *ring = harness_keyring_with_key(key, 80, TLSEXT_KEY_FORMAT_OPENSSL);
    for (size_t i = 0; i < NMODES; i++)
        modes[i].server = harness_server_ctx(TLS1_2_VERSION);
    HARNESS_REQUIRE(SSL_CTX_set_tlsext_ticket_keys(modes[0].server, key, sizeof key) == 1);
    HARNESS_REQUIRE(tlsext_ssl_ctx_use_keyring(modes[1].server, ring) == TLSEXT_RESULT_OK);
    HARNESS_REQUIRE(SSL_CTX_set_tlsext_ticket_key_cb(modes[2].server, legacy_cb) == 1);
    tlsext_keyring_free(ring);
}

static SSL_CTX *client;

/* A session to resume for mode m, issued by the next mode's server (the tickets are
 * interchangeable), so that the measured handshakes are only resumptions. */
static void make_session(size_t m)
{
    bench_hs r;
    bench_handshake(modes[(m + 1) % NMODES].server, client, NULL, srv_setup, &r);
    HARNESS_REQUIRE(r.ok && !r.resumed && r.session != NULL && SSL_SESSION_has_ticket(r.session));
    modes[m].session = r.session;
}

static void run_one(mode *m, bench_hs *r)
{
    bench_handshake(m->server, client, m->session, m->fn, r);
    if (!r->ok || !r->resumed)
        m->failures++;
    SSL_SESSION_free(r->session);
    r->session = NULL;
}

static int report_failures(void)
{
    int failed = 0;
    for (size_t k = 0; k < NMODES; k++) {
        printf("METRIC failures_legacy_bench_%s %d handshakes\n", modes[k].name, modes[k].failures);
        failed += modes[k].failures;
    }
    return failed == 0 ? 0 : 1;
}

static int count_mode(int n)
{
    for (int i = 0; i < 5; i++)
        for (size_t k = 0; k < NMODES; k++) {
            bench_hs r;
            run_one(&modes[k], &r);
        }
    CALLGRIND_ZERO_STATS;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < NMODES; k++) {
            bench_hs r;
            run_one(&modes[k], &r);
        }
    printf("METRIC legacy_count %d handshakes\n", n);
    return report_failures();
}

static int time_mode(int rounds, int batch)
{
    double *srv[NMODES];
    for (size_t k = 0; k < NMODES; k++)
        HARNESS_REQUIRE((srv[k] = calloc((size_t)rounds, sizeof(double))) != NULL);
    for (int round = 0; round < rounds; round++)
        for (size_t q = 0; q < NMODES; q++) {
            size_t k = (q + (size_t)round) % NMODES; /* rotate which mode goes first */
            double s = 0;
            for (int i = 0; i < batch; i++) {
                bench_hs r;
                run_one(&modes[k], &r);
                s += r.server_ns;
            }
            srv[k][round] = s / batch;
        }
    for (size_t k = 0; k < NMODES; k++) {
        double med = bench_median(srv[k], (size_t)rounds);
        printf("%-24s server median %8.1f us\n", modes[k].name, med / 1e3);
        printf("METRIC time_legacy_bench_%s %.0f ns\n", modes[k].name, med);
        free(srv[k]);
    }
    return report_failures();
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "time";
    setup();
    client = bench_lean_client(TLS1_2_VERSION);
    for (size_t k = 0; k < NMODES; k++)
        make_session(k);
    int rc = strcmp(what, "count") == 0 ? count_mode(argc > 2 ? atoi(argv[2]) : 50)
                                        : time_mode(argc > 2 ? atoi(argv[2]) : 21, argc > 3 ? atoi(argv[3]) : 40);
    for (size_t k = 0; k < NMODES; k++) {
        SSL_SESSION_free(modes[k].session);
        SSL_CTX_free(modes[k].server);
    }
    SSL_CTX_free(client);
    HMAC_CTX_free(mac_template);
    EVP_CIPHER_CTX_free(enc_template);
    EVP_CIPHER_CTX_free(dec_template);
    harness_free_cert();
    return rc;
}
