/*
 * bench_memory.c - benchmark 5: server memory per resumable client.
 *
 *   bench_memory cache   [clients] [version]   OpenSSL's server session cache (no tickets:
 *                                              SSL_OP_NO_TICKET, unlimited cache size)
 *   bench_memory tickets [clients] [version]   stateless tickets sealed by the shim's ring
 *                                              (session cache off)
 *
 * `clients` distinct clients (default 100000) each make one full handshake, then leave (the
 * client side keeps nothing, except three sample sessions). The server's resident set size
 * (VmRSS) and the heap in use (mallinfo2) are read after a warm-up of 200 clients and after
 * the last one; the growth divided by the number of clients is the memory each resumable
 * client costs. The three sample clients then come back, and must resume (so the state kept
 * is real). `version` is 12 or 13 (default 13). Run each mode in its own process.
 *
 * Output: a readable summary and "METRIC name value unit" lines.
 */
#include <malloc.h>

#include "bench.h"

BENCH_SERVER_FN(srv_memory)

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "tickets";
    long clients = argc > 2 ? atol(argv[2]) : 100000;
    int version = argc > 3 && strcmp(argv[3], "12") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
    bool cache = strcmp(mode, "cache") == 0;
    HARNESS_REQUIRE(cache || strcmp(mode, "tickets") == 0);
    HARNESS_REQUIRE(clients >= 3);

    SSL_CTX *server = harness_server_ctx(version);
    tlsext_keyring *ring = NULL;
    if (cache) {
        SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(server, 0); /* unlimited */
        SSL_CTX_set_timeout(server, 3600);
        SSL_CTX_set_options(server, SSL_OP_NO_TICKET);
    } else {
        ring = harness_keyring_random(80, NULL);
        HARNESS_REQUIRE(tlsext_ssl_ctx_use_keyring(server, ring) == TLSEXT_RESULT_OK);
    }
    SSL_CTX *client = bench_lean_client(version);

    long samples[3] = {0, clients / 2, clients - 1};
    SSL_SESSION *kept[3] = {NULL, NULL, NULL};
    long warm = 200, rss0 = 0;
    size_t heap0 = 0;
    double t0 = bench_now_ns();
    for (long i = -warm; i < clients; i++) {
        if (i == 0) {
            malloc_trim(0);
            rss0 = bench_status_kib("VmRSS:");
            heap0 = heap_in_use();
        }
        bench_hs r;
        bench_handshake(server, client, NULL, srv_memory, &r);
        HARNESS_REQUIRE(r.ok && !r.resumed && r.session != NULL);
        bool keep = false;
        for (int k = 0; k < 3; k++)
            if (i == samples[k]) {
                kept[k] = r.session;
                keep = true;
            }
        if (!keep)
            SSL_SESSION_free(r.session);
    }
    double secs = (bench_now_ns() - t0) / 1e9;
    malloc_trim(0);
    long rss1 = bench_status_kib("VmRSS:");
    size_t heap1 = heap_in_use();
    long cached = SSL_CTX_sess_number(server);

    int resumed = 0;
    for (int k = 0; k < 3; k++) {
        bench_hs r;
        bench_handshake(server, client, kept[k], srv_memory, &r);
        resumed += r.ok && r.resumed;
        SSL_SESSION_free(r.session);
        SSL_SESSION_free(kept[k]);
    }

    double per_rss = (double)(rss1 - rss0) * 1024.0 / (double)clients;
    double per_heap = ((double)heap1 - (double)heap0) / (double)clients;
    const char *v = version == TLS1_3_VERSION ? "tls13" : "tls12";
    printf("%s, %s: %ld clients in %.1f s; server cache holds %ld sessions\n", mode, v, clients,
           secs, cached);
    printf("  VmRSS %ld KiB -> %ld KiB: %+.0f bytes per client\n", rss0, rss1, per_rss);
    printf("  heap in use %zu -> %zu bytes: %+.0f bytes per client\n", heap0, heap1, per_heap);
    printf("  sample clients resumed: %d of 3\n", resumed);
    printf("METRIC mem_%s_%s_rss_per_client %.0f bytes\n", mode, v, per_rss);
    printf("METRIC mem_%s_%s_heap_per_client %.0f bytes\n", mode, v, per_heap);
    printf("METRIC mem_%s_%s_rss_before %ld KiB\n", mode, v, rss0);
    printf("METRIC mem_%s_%s_rss_after %ld KiB\n", mode, v, rss1);
    printf("METRIC mem_%s_%s_cached_sessions %ld sessions\n", mode, v, cached);
    printf("METRIC mem_%s_%s_samples_resumed %d of_3\n", mode, v, resumed);
    printf("METRIC mem_%s_%s_clients %ld clients\n", mode, v, clients);

    SSL_CTX_free(client);
    SSL_CTX_free(server);
    tlsext_keyring_free(ring);
    harness_free_cert();
    return resumed == 3 ? 0 : 1;
}
