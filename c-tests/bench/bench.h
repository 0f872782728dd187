/*
 * bench.h - shared helpers of the C benchmarks: a monotonic clock, medians, RSS, and an
 * in-memory TLS handshake driver whose server-side calls go through a caller-chosen function
 * (so callgrind can count the server's instructions per mode with --toggle-collect).
 *
 * Uses ../harness.h for the in-memory certificate and the client/server context factories.
 */
#ifndef TLSEXT_BENCH_H
#define TLSEXT_BENCH_H

#include <time.h>

#include "../harness.h"

/* CALLGRIND_ZERO_STATS from valgrind's header when it is installed, a no-op otherwise. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_ZERO_STATS
#define CALLGRIND_ZERO_STATS
#endif

/* The harness's check counters are not used by the benchmarks. */
static inline int bench_harness_unused(void)
{
    return harness_tests_passed + harness_tests_failed + harness_current_failures;
}

static inline double bench_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static inline double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The p-th percentile (0..100) of v[0..n), after bench_median sorted it. */
static inline double bench_pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* A field of /proc/self/status in KiB (e.g. "VmRSS:"), -1 if absent. */
static inline long bench_status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, n) == 0) {
            v = strtol(line + n, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* A client context for exactly `version` and nothing else: no verification, and none of
 * harness_client_ctx's session and message callbacks (their cost would be measured too). */
static inline SSL_CTX *bench_lean_client(int version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    HARNESS_REQUIRE(ctx != NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    harness_set_version(ctx, version);
    return ctx;
}

/* The server-side calls of a handshake: op 0 = SSL_do_handshake, op 1 = SSL_free. */
typedef int (*bench_server_fn)(int op, SSL *s);

/* Defines a non-inlined server function called NAME: one per mode, so that callgrind's
 * --toggle-collect=NAME counts that mode's server instructions and nothing else. */
#define BENCH_SERVER_FN(name)                                                               \
    __attribute__((noinline)) static int name(int op, SSL *s)                               \
    {                                                                                       \
        if (op == 0)                                                                        \
            return SSL_do_handshake(s);                                                     \
        SSL_free(s);                                                                        \
        return 1;                                                                           \
    }

typedef struct bench_hs {
    bool ok;
    bool resumed;
    double server_ns; /* time spent inside the server function */
    double total_ns;  /* the whole handshake, client and server, SSL_new to SSL_free */
    SSL_SESSION *session; /* the client's session afterwards (caller frees) */
} bench_hs;

/*
 * One in-memory handshake over a BIO pair in this thread, the client offering `resume`
 * (may be NULL). After both sides finish, the client reads once so that TLS 1.3
 * NewSessionTickets (already written by the server inside SSL_do_handshake) are processed.
 * No application data; both sides are marked closed (no close_notify records are sent).
 */
static inline void bench_handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *resume,
                                   bench_server_fn server, bench_hs *r)
{
    memset(r, 0, sizeof *r);
    double t0 = bench_now_ns();
    SSL *s = NULL, *c = NULL;
    harness_pair(sctx, cctx, &s, &c);
    if (resume != NULL)
        HARNESS_REQUIRE(SSL_set_session(c, resume) == 1);
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 32 && !(cdone == 1 && sdone == 1); i++) {
        if (cdone == 0)
            cdone = harness_step(c);
        if (sdone == 0) {
            double a = bench_now_ns();
            int ret = server(0, s);
            r->server_ns += bench_now_ns() - a;
            sdone = harness_step_status(s, ret);
        }
        if (cdone < 0 || sdone < 0)
            break;
    }
    r->ok = cdone == 1 && sdone == 1;
    if (r->ok) {
        char buf[1];
        size_t got = 0;
        (void)SSL_read_ex(c, buf, sizeof buf, &got); /* processes NewSessionTickets */
    } else {
        ERR_print_errors_fp(stdout);
    }
    r->resumed = SSL_session_reused(c) == 1;
    /* Closed cleanly (as after close_notify both ways): freeing an unclosed connection would
     * mark its session non-resumable. */
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    r->session = SSL_get1_session(c);
    SSL_free(c);
    double a = bench_now_ns();
    server(1, s);
    double b = bench_now_ns();
    r->server_ns += b - a;
    r->total_ns = b - t0;
    ERR_clear_error();
}

#endif
