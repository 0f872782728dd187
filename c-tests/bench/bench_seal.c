/*
 * bench_seal.c - benchmark 3 from C: the shim's sealer through its C API
 * (tlsext_ticket_seal / tlsext_ticket_open, 200-byte plaintext, one AES-256 key) against
 * libcrypto doing the same work (AES-256-CBC + HMAC-SHA256 in OpenSSL's ticket format, IV
 * from RAND_bytes, cipher and MAC fetched once, contexts reused and re-keyed per ticket).
 *
 * Modes are interleaved: every round runs a batch of each (alternating which goes first),
 * and the medians over the rounds are printed, with the 10th and 90th percentiles.
 *
 *   bench_seal [rounds] [batch]        defaults 101 rounds of 2000 operations
 *
 * Output: "METRIC <name> <value> <unit>" lines (read by run.py) and a readable table.
 */
#include <sys/wait.h>

#include "bench.h"

#define PT_LEN 200

typedef struct evp_sealer {
    EVP_CIPHER *cipher;
    EVP_CIPHER_CTX *cctx;
    EVP_MAC_CTX *mctx;
    uint8_t name[16], hmac[32], aes[32];
} evp_sealer;

static void evp_init(evp_sealer *e, const uint8_t key80[80])
{
    /* nginx 80-byte layout: name, HMAC key, AES key */
    memcpy(e->name, key80, 16);
    memcpy(e->hmac, key80 + 16, 32);
    memcpy(e->aes, key80 + 48, 32);
    e->cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    HARNESS_REQUIRE(e->cipher != NULL && mac != NULL);
    e->mctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    e->cctx = EVP_CIPHER_CTX_new();
    HARNESS_REQUIRE(e->mctx != NULL && e->cctx != NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    HARNESS_REQUIRE(EVP_MAC_init(e->mctx, e->hmac, 32, params) == 1);
}

static void evp_free(evp_sealer *e)
{
    EVP_CIPHER_CTX_free(e->cctx);
    EVP_MAC_CTX_free(e->mctx);
    EVP_CIPHER_free(e->cipher);
}

static size_t evp_seal(evp_sealer *e, const uint8_t *in, size_t n, uint8_t *out)
{
    int l1 = 0, l2 = 0;
    size_t ml = 0;
    memcpy(out, e->name, 16);
    HARNESS_REQUIRE(RAND_bytes(out + 16, 16) == 1);
    HARNESS_REQUIRE(EVP_EncryptInit_ex(e->cctx, e->cipher, NULL, e->aes, out + 16) == 1);
    HARNESS_REQUIRE(EVP_EncryptUpdate(e->cctx, out + 32, &l1, in, (int)n) == 1);
    HARNESS_REQUIRE(EVP_EncryptFinal_ex(e->cctx, out + 32 + l1, &l2) == 1);
    size_t at = 32 + (size_t)l1 + (size_t)l2;
    HARNESS_REQUIRE(EVP_MAC_init(e->mctx, e->hmac, 32, NULL) == 1);
    HARNESS_REQUIRE(EVP_MAC_update(e->mctx, out, at) == 1);
    HARNESS_REQUIRE(EVP_MAC_final(e->mctx, out + at, &ml, 32) == 1);
    return at + 32;
}

static size_t evp_open(evp_sealer *e, const uint8_t *t, size_t n, uint8_t *out)
{
    uint8_t tag[32];
    size_t ml = 0;
    int l1 = 0, l2 = 0;
    if (n < 80 || memcmp(t, e->name, 16) != 0)
        return 0;
    HARNESS_REQUIRE(EVP_MAC_init(e->mctx, e->hmac, 32, NULL) == 1);
    HARNESS_REQUIRE(EVP_MAC_update(e->mctx, t, n - 32) == 1);
    HARNESS_REQUIRE(EVP_MAC_final(e->mctx, tag, &ml, 32) == 1);
    if (CRYPTO_memcmp(tag, t + n - 32, 32) != 0)
        return 0;
    HARNESS_REQUIRE(EVP_DecryptInit_ex(e->cctx, e->cipher, NULL, e->aes, t + 16) == 1);
    HARNESS_REQUIRE(EVP_DecryptUpdate(e->cctx, out, &l1, t + 32, (int)(n - 64)) == 1);
    if (EVP_DecryptFinal_ex(e->cctx, out + l1, &l2) != 1)
        return 0;
    return (size_t)(l1 + l2);
}


/* IVs must never repeat across fork(): the parent and a child, both with a warm IV generator,
 * seal 4 tickets each; all 8 IVs must differ. Returns true when they do. */
static bool ivs_unique_across_fork(const tlsext_keyring *ring, const uint8_t *pt)
{
    uint8_t t[PT_LEN + 128], ivs[8][16];
    size_t n = 0;
    int fds[2];
    HARNESS_REQUIRE(pipe(fds) == 0);
    HARNESS_REQUIRE(tlsext_ticket_seal(ring, pt, PT_LEN, t, sizeof t, &n) == TLSEXT_RESULT_OK);
    fflush(stdout);
    pid_t pid = fork();
    HARNESS_REQUIRE(pid >= 0);
    for (int i = 0; i < 4; i++) {
        HARNESS_REQUIRE(tlsext_ticket_seal(ring, pt, PT_LEN, t, sizeof t, &n) == TLSEXT_RESULT_OK);
        memcpy(ivs[pid == 0 ? i : 4 + i], t + 16, 16);
    }
    if (pid == 0) {
        _exit(write(fds[1], ivs, 4 * 16) == 4 * 16 ? 0 : 1);
    }
    int status = 0;
    HARNESS_REQUIRE(read(fds[0], ivs, 4 * 16) == 4 * 16);
    HARNESS_REQUIRE(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fds[0]);
    close(fds[1]);
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++)
            if (memcmp(ivs[i], ivs[j], 16) == 0)
                return false;
    return true;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 101;
    int batch = argc > 2 ? atoi(argv[2]) : 2000;
    HARNESS_REQUIRE(rounds > 0 && batch > 0);

    uint8_t key[80], pt[PT_LEN], out[PT_LEN + 128], ticket_shim[PT_LEN + 128],
        ticket_evp[PT_LEN + 128];
    harness_random_key(key, sizeof key);
    for (size_t i = 0; i < PT_LEN; i++)
        pt[i] = (uint8_t)i;
    tlsext_keyring *ring = harness_keyring_with_key(key, 80, TLSEXT_KEY_FORMAT_NGINX);
    evp_sealer e;
    evp_init(&e, key);

    /* Both produce OpenSSL's format: each opens the other's tickets. */
    size_t ls = 0, lo = 0;
    HARNESS_REQUIRE(tlsext_ticket_seal(ring, pt, PT_LEN, ticket_shim, sizeof ticket_shim, &ls) ==
                    TLSEXT_RESULT_OK);
    size_t le = evp_seal(&e, pt, PT_LEN, ticket_evp);
    HARNESS_REQUIRE(ls == le && ls == tlsext_ticket_sealed_len(PT_LEN));
    HARNESS_REQUIRE(evp_open(&e, ticket_shim, ls, out) == PT_LEN && memcmp(out, pt, PT_LEN) == 0);
    HARNESS_REQUIRE(tlsext_ticket_open(ring, ticket_evp, le, out, sizeof out, &lo) ==
                        TLSEXT_RESULT_OK &&
                    lo == PT_LEN && memcmp(out, pt, PT_LEN) == 0);

    bool fork_ok = ivs_unique_across_fork(ring, pt);
    printf("IVs across fork(): %s\n", fork_ok ? "all distinct" : "REPEATED");
    printf("METRIC c_fork_ivs_distinct %d bool\n", fork_ok ? 1 : 0);

    enum { SHIM_SEAL, EVP_SEAL, SHIM_OPEN, EVP_OPEN, MODES };
    static const char *names[MODES] = {"shim_seal", "evp_seal", "shim_open", "evp_open"};
    double *t[MODES];
    for (int m = 0; m < MODES; m++)
        HARNESS_REQUIRE((t[m] = calloc((size_t)rounds, sizeof(double))) != NULL);

    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < MODES; k++) {
            int m = (r % 2) ? MODES - 1 - k : k; /* alternate the order every round */
            double a = bench_now_ns();
            for (int i = 0; i < batch; i++) {
                switch (m) {
                case SHIM_SEAL:
                    HARNESS_REQUIRE(tlsext_ticket_seal(ring, pt, PT_LEN, out, sizeof out, &ls) ==
                                    TLSEXT_RESULT_OK);
                    break;
                case EVP_SEAL:
                    evp_seal(&e, pt, PT_LEN, out);
                    break;
                case SHIM_OPEN:
                    HARNESS_REQUIRE(tlsext_ticket_open(ring, ticket_shim, ls, out, sizeof out,
                                                       &lo) == TLSEXT_RESULT_OK);
                    break;
                default:
                    HARNESS_REQUIRE(evp_open(&e, ticket_shim, ls, out) == PT_LEN);
                }
            }
            t[m][r] = (bench_now_ns() - a) / batch;
        }
    }
    printf("%-10s %10s %10s %10s   (ns per operation, %d interleaved rounds of %d)\n", "mode",
           "median", "p10", "p90", rounds, batch);
    double med[MODES];
    for (int m = 0; m < MODES; m++) {
        med[m] = bench_median(t[m], (size_t)rounds);
        printf("%-10s %10.1f %10.1f %10.1f\n", names[m], med[m], bench_pct(t[m], rounds, 10),
               bench_pct(t[m], rounds, 90));
        printf("METRIC c_%s_ns %.1f ns\n", names[m], med[m]);
        printf("METRIC c_%s_p10_ns %.1f ns\n", names[m], bench_pct(t[m], rounds, 10));
        free(t[m]);
    }
    printf("METRIC c_seal_ratio %.3f x\n", med[SHIM_SEAL] / med[EVP_SEAL]);
    printf("METRIC c_open_ratio %.3f x\n", med[SHIM_OPEN] / med[EVP_OPEN]);
    evp_free(&e);
    tlsext_keyring_free(ring);
    harness_free_cert();
    return 0;
}
