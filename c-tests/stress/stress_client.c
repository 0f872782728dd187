/*
 * stress_client.c - many client threads, ticket resumption, and a key directory rotated under
 * them.
 *
 *   stress_client -p PORT -n HANDSHAKES [-t THREADS] [-r KEYDIR [-i MS] [-k KEEP]] [-f EVERY]
 *
 * THREADS (default 8) threads share HANDSHAKES connections to the stress server on
 * 127.0.0.1:PORT; even threads use TLS 1.2, odd ones TLS 1.3. Each thread offers the session
 * of its previous connection (every EVERY-th connection, default 50, starts fresh with a full
 * handshake). With -r, another thread rotates KEYDIR every MS milliseconds (default 100): it
 * adds a new random 80-byte key whose file name (NNNNNNNN.key) sorts last, written to a hidden
 * file and renamed, and deletes the oldest keys beyond KEEP (default 3). The directory must
 * start with at least one NNNNNNNN.key file.
 *
 * Every offered ticket is classified by its key name (the ticket's first 16 bytes): "in
 * window" when its key file was still in the directory when the handshake ended, "retired"
 * when it had been deleted. Prints counts and rates; exits 0 when no handshake failed and every
 * in-window ticket resumed.
 */
#include "stress.h"

#include <pthread.h>
#include <stdatomic.h>

#define MAX_KEYS 65536

static int port, n_threads = 8, interval_ms = 100, keep = 3, fresh_every = 50;
static long total;
static const char *keydir;

static atomic_long next_conn;
static atomic_long n_full, n_failed, n_attempts, n_resumed, n_window, n_window_resumed,
    n_retired, n_retired_resumed, n_unknown;
static atomic_bool done;

/* Key names by index; entries [0, n_names) are published (written before the count). */
static uint8_t names[MAX_KEYS][16];
static atomic_long n_names;
static atomic_long newest = -1; /* index of the newest key file */
static long first_index = -1;   /* index of the first key seen */
static atomic_long rotations;

static long key_index(const uint8_t *name)
{
    long n = atomic_load_explicit(&n_names, memory_order_acquire);
    for (long i = n - 1; i >= 0; i--)
        if (memcmp(names[i], name, 16) == 0)
            return first_index + i;
    return -1;
}

static void add_name(long index, const uint8_t *name)
{
    long n = atomic_load(&n_names);
    HARNESS_REQUIRE(n < MAX_KEYS && first_index + n == index);
    memcpy(names[n], name, 16);
    atomic_store_explicit(&n_names, n + 1, memory_order_release);
}

static char *key_path(long index)
{
    char name[32];
    snprintf(name, sizeof name, "%08ld.key", index);
    return harness_path(keydir, name);
}

/* Reads the NNNNNNNN.key files already in the directory, oldest first. */
static void scan_keys(void)
{
    long lo = -1, hi = -1;
    DIR *d = opendir(keydir);
    HARNESS_REQUIRE(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end = NULL;
        long i = strtol(e->d_name, &end, 10);
        if (end == e->d_name + 8 && strcmp(end, ".key") == 0) {
            lo = lo < 0 || i < lo ? i : lo;
            hi = i > hi ? i : hi;
        }
    }
    closedir(d);
    HARNESS_REQUIRE(hi >= 0);
    first_index = lo;
    for (long i = lo; i <= hi; i++) {
        char *p = key_path(i);
        uint8_t key[80];
        FILE *f = fopen(p, "rb");
        HARNESS_REQUIRE(f != NULL && fread(key, 1, sizeof key, f) >= 16);
        fclose(f);
        add_name(i, key);
        free(p);
    }
    atomic_store(&newest, hi);
}

static void *rotator(void *arg)
{
    (void)arg;
    char *tmp = harness_path(keydir, ".next.tmp");
    while (!atomic_load(&done)) {
        struct timespec pause = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
        if (atomic_load(&done))
            break;
        long index = atomic_load(&newest) + 1;
        uint8_t key[80];
        harness_random_key(key, sizeof key);
        add_name(index, key); /* known before any ticket can carry it */
        FILE *f = fopen(tmp, "wb");
        HARNESS_REQUIRE(f != NULL && fwrite(key, 1, sizeof key, f) == sizeof key);
        HARNESS_REQUIRE(fclose(f) == 0);
        char *p = key_path(index);
        HARNESS_REQUIRE(rename(tmp, p) == 0);
        free(p);
        atomic_store(&newest, index);
        for (long old = index - keep; old >= first_index; old--) {
            char *q = key_path(old);
            int gone = unlink(q) != 0;
            free(q);
            if (gone)
                break;
        }
        atomic_fetch_add(&rotations, 1);
    }
    free(tmp);
    return NULL;
}

static void *client(void *arg)
{
    long id = (long)(intptr_t)arg;
    int version = id % 2 == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX *ctx = stress_client_ctx(version);
    SSL_SESSION *sess = NULL;
    long mine = 0;
    while (atomic_fetch_add(&next_conn, 1) < total) {
        if (mine++ % fresh_every == 0) {
            SSL_SESSION_free(sess);
            sess = NULL;
        }
        long index = -1;
        if (sess != NULL && keydir != NULL) {
            const uint8_t *name = stress_ticket_name(sess);
            index = name != NULL ? key_index(name) : -1;
        }
        stress_conn c;
        stress_client_conn(ctx, port, sess, "ping", 4, 4, &c);
        if (!c.ok) {
            if (atomic_fetch_add(&n_failed, 1) < 20)
                fprintf(stderr, "client %ld (%s): connection failed: %s\n", id,
                        version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2", c.error);
            SSL_SESSION_free(sess);
            sess = NULL;
            continue;
        }
        if (sess == NULL) {
            atomic_fetch_add(&n_full, 1);
        } else {
            atomic_fetch_add(&n_attempts, 1);
            if (c.reused)
                atomic_fetch_add(&n_resumed, 1);
            if (keydir != NULL) {
                if (index < 0) {
                    atomic_fetch_add(&n_unknown, 1);
                } else if (index > atomic_load(&newest) - keep) {
                    atomic_fetch_add(&n_window, 1);
                    if (c.reused)
                        atomic_fetch_add(&n_window_resumed, 1);
                    else if (atomic_load(&n_window) - atomic_load(&n_window_resumed) <= 20)
                        fprintf(stderr,
                                "client %ld (%s): ticket of key %08ld (newest %08ld) not "
                                "resumed\n",
                                id, version == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2", index,
                                atomic_load(&newest));
                } else {
                    atomic_fetch_add(&n_retired, 1);
                    if (c.reused)
                        atomic_fetch_add(&n_retired_resumed, 1);
                }
            }
        }
        SSL_SESSION_free(sess);
        sess = c.session;
    }
    SSL_SESSION_free(sess);
    SSL_CTX_free(ctx);
    return NULL;
}

static double pct(long a, long b)
{
    return b == 0 ? 100.0 : 100.0 * (double)a / (double)b;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "p:n:t:r:i:k:f:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'n': total = atol(optarg); break;
        case 't': n_threads = atoi(optarg); break;
        case 'r': keydir = optarg; break;
        case 'i': interval_ms = atoi(optarg); break;
        case 'k': keep = atoi(optarg); break;
        case 'f': fresh_every = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (port <= 0 || total <= 0 || n_threads <= 0 || interval_ms <= 0 || keep <= 0 ||
        fresh_every <= 0 || optind != argc)
        goto usage;
    signal(SIGPIPE, SIG_IGN);
    if (keydir != NULL)
        scan_keys();

    pthread_t rot, threads[256];
    HARNESS_REQUIRE(n_threads <= 256);
    double t0 = stress_now();
    if (keydir != NULL)
        HARNESS_REQUIRE(pthread_create(&rot, NULL, rotator, NULL) == 0);
    for (long i = 0; i < n_threads; i++)
        HARNESS_REQUIRE(pthread_create(&threads[i], NULL, client, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < n_threads; i++)
        pthread_join(threads[i], NULL);
    atomic_store(&done, true);
    if (keydir != NULL)
        pthread_join(rot, NULL);
    double secs = stress_now() - t0;

    long handshakes = atomic_load(&n_full) + atomic_load(&n_attempts);
    long failed = atomic_load(&n_failed);
    printf("client: handshakes=%ld failed=%ld full=%ld in %.1fs (%.0f/s), %d threads\n",
           handshakes, failed, atomic_load(&n_full), secs, (double)handshakes / secs,
           n_threads);
    printf("client: resumption attempts=%ld resumed=%ld (%.3f%%)\n", atomic_load(&n_attempts),
           atomic_load(&n_resumed), pct(atomic_load(&n_resumed), atomic_load(&n_attempts)));
    bool window_ok = true;
    if (keydir != NULL) {
        long w = atomic_load(&n_window), wr = atomic_load(&n_window_resumed);
        printf("client: rotations=%ld every %dms keeping %d keys; tickets in window=%ld "
               "resumed=%ld (%.3f%%); retired=%ld resumed=%ld; unknown key=%ld\n",
               atomic_load(&rotations), interval_ms, keep, w, wr, pct(wr, w),
               atomic_load(&n_retired), atomic_load(&n_retired_resumed),
               atomic_load(&n_unknown));
        /* A retired ticket may still resume: a handshake that finds another thread reloading
         * uses the ring from just before (that is fine; only in-window misses are bugs). */
        window_ok = w == wr && atomic_load(&n_unknown) == 0;
    }
    fflush(stdout);
    return failed == 0 && window_ok && handshakes == total ? 0 : 1;
usage:
    fprintf(stderr,
            "usage: %s -p PORT -n HANDSHAKES [-t THREADS] [-r KEYDIR [-i MS] [-k KEEP]] "
            "[-f EVERY]\n",
            argv[0]);
    return 2;
}
