/*
 * bench_certs.c - benchmark 6, startup: loading N vhost certificates (default 1000), each an
 * ECDSA P-256 certificate and key in PEM files (made first, in a temporary directory, not
 * timed).
 *
 *   openssl: what any server does per vhost with plain libssl: SSL_CTX_new, then
 *            SSL_CTX_use_certificate_chain_file, SSL_CTX_use_PrivateKey_file and
 *            SSL_CTX_check_private_key
 *   shim:    tlsext_sni_router_add_vhost_files for every vhost into one router (which
 *            parses, checks and indexes the names), then tlsext_ssl_ctx_use_sni
 *
 *   bench_certs [vhosts] [repeats]     defaults 1000 and 5; the modes alternate, medians
 *
 * Output: a readable summary and "METRIC name value unit" lines.
 */
#include "bench.h"

static char *dir;

static void make_pair(int i)
{
    char cn[64];
    snprintf(cn, sizeof cn, "vhost%d.bench.test", i);
    EVP_PKEY *key = NULL;
    X509 *x = harness_self_signed(cn, NULL, i + 1, &key);
    char file[64];
    snprintf(file, sizeof file, "v%d.crt", i);
    char *p = harness_path(dir, file);
    FILE *f = fopen(p, "w");
    HARNESS_REQUIRE(f != NULL && PEM_write_X509(f, x) == 1 && fclose(f) == 0);
    free(p);
    snprintf(file, sizeof file, "v%d.key", i);
    p = harness_path(dir, file);
    f = fopen(p, "w");
    HARNESS_REQUIRE(f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 &&
                    fclose(f) == 0);
    free(p);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void paths(int i, char **crt, char **key)
{
    char file[64];
    snprintf(file, sizeof file, "v%d.crt", i);
    *crt = harness_path(dir, file);
    snprintf(file, sizeof file, "v%d.key", i);
    *key = harness_path(dir, file);
}

/* Plain libssl: one context per vhost. Returns seconds. */
static double load_openssl(int n)
{
    SSL_CTX **ctxs = calloc((size_t)n, sizeof *ctxs);
    HARNESS_REQUIRE(ctxs != NULL);
    double t0 = bench_now_ns();
    for (int i = 0; i < n; i++) {
        char *crt, *key;
        paths(i, &crt, &key);
        ctxs[i] = SSL_CTX_new(TLS_server_method());
        HARNESS_REQUIRE(ctxs[i] != NULL);
        HARNESS_REQUIRE(SSL_CTX_use_certificate_chain_file(ctxs[i], crt) == 1);
        HARNESS_REQUIRE(SSL_CTX_use_PrivateKey_file(ctxs[i], key, SSL_FILETYPE_PEM) == 1);
        HARNESS_REQUIRE(SSL_CTX_check_private_key(ctxs[i]) == 1);
        free(crt);
        free(key);
    }
    double secs = (bench_now_ns() - t0) / 1e9;
    for (int i = 0; i < n; i++)
        SSL_CTX_free(ctxs[i]);
    free(ctxs);
    return secs;
}

/* The shim's SNI router: every vhost into one router, attached to one context. */
static double load_shim(int n)
{
    double t0 = bench_now_ns();
    tlsext_sni_router *router = NULL;
    HARNESS_REQUIRE(tlsext_sni_router_new(&router) == TLSEXT_RESULT_OK);
    for (int i = 0; i < n; i++) {
        char *crt, *key, name[64];
        paths(i, &crt, &key);
        snprintf(name, sizeof name, "vhost%d.bench.test", i);
        const char *names[] = {name};
        if (tlsext_sni_router_add_vhost_files(router, names, 1, crt, key) != TLSEXT_RESULT_OK) {
            printf("add_vhost_files: %s\n", tlsext_last_error_message());
            exit(2);
        }
        free(crt);
        free(key);
    }
    SSL_CTX *ctx = harness_server_ctx(0);
    HARNESS_REQUIRE(tlsext_ssl_ctx_use_sni(ctx, router) == TLSEXT_RESULT_OK);
    HARNESS_REQUIRE(tlsext_sni_router_len(router) == (size_t)n);
    double secs = (bench_now_ns() - t0) / 1e9;
    SSL_CTX_free(ctx);
    tlsext_sni_router_free(router);
    return secs;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    HARNESS_REQUIRE(n > 0 && repeats > 0);
    harness_make_cert(); /* the context tlsext_ssl_ctx_use_sni attaches to */
    dir = harness_tmpdir();
    for (int i = 0; i < n; i++)
        make_pair(i);
    double *o = calloc((size_t)repeats, sizeof *o), *s = calloc((size_t)repeats, sizeof *s);
    HARNESS_REQUIRE(o != NULL && s != NULL);
    for (int r = 0; r < repeats; r++) {
        if (r % 2) {
            s[r] = load_shim(n);
            o[r] = load_openssl(n);
        } else {
            o[r] = load_openssl(n);
            s[r] = load_shim(n);
        }
    }
    double mo = bench_median(o, (size_t)repeats), ms = bench_median(s, (size_t)repeats);
    printf("%d vhost certificates (ECDSA P-256 PEM pairs), median of %d alternating runs:\n", n,
           repeats);
    printf("  plain libssl, one SSL_CTX each:  %8.1f ms  (%.1f us per vhost)\n", mo * 1e3,
           mo * 1e6 / n);
    printf("  shim SNI router:                 %8.1f ms  (%.1f us per vhost)\n", ms * 1e3,
           ms * 1e6 / n);
    printf("METRIC certs_openssl_ms %.1f ms\n", mo * 1e3);
    printf("METRIC certs_shim_ms %.1f ms\n", ms * 1e3);
    printf("METRIC certs_ratio %.3f x\n", ms / mo);
    printf("METRIC certs_vhosts %d vhosts\n", n);
    free(o);
    free(s);
    harness_rm_rf(dir);
    free(dir);
    harness_free_cert();
    return 0;
}
