//! Benchmark 6 (lookup): `sni::VhostTable` holding 100 000 exact names (plus 1 000 wildcards):
//! the time of one lookup of a name as a client sends it (exact hit, wildcard hit, miss; each
//! a batch of 1 024 different names, so caches see a realistic spread), and the heap bytes the
//! table holds per name, measured with a counting global allocator (which also shows that a
//! lookup allocates nothing).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use tlsext_shim::sni::VhostTable;

const NAMES: usize = 100_000;
const WILDCARDS: usize = 1_000;
const BATCH: usize = 1_024;

struct Counting;

static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        // SAFETY: caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The i-th exact name: realistic lengths (20 to 30 bytes), spread over 1 000 domains.
fn exact(i: usize) -> String {
    format!("svc{i}-web.tenant{}.example.com", i % 1000)
}

fn wildcard(i: usize) -> String {
    format!("*.apps{i}.example.net")
}

/// Builds the table; returns it with the heap bytes it holds.
fn build() -> (VhostTable<u32>, i64) {
    let names: Vec<String> = (0..NAMES).map(exact).collect();
    let wilds: Vec<String> = (0..WILDCARDS).map(wildcard).collect();
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut t = VhostTable::new();
    for (i, n) in names.iter().enumerate() {
        t.insert_str(n, i as u32).unwrap();
    }
    for (i, n) in wilds.iter().enumerate() {
        t.insert_str(n, (NAMES + i) as u32).unwrap();
    }
    let bytes = LIVE_BYTES.load(Ordering::Relaxed) - before;
    (t, bytes)
}

/// A deterministic spread of indexes (a multiplicative hash), so batches are not sequential.
fn spread(k: usize, modulo: usize) -> usize {
    (k.wrapping_mul(2_654_435_761) >> 7) % modulo
}

fn bench(c: &mut Criterion) {
    let (table, bytes) = build();
    let patterns = NAMES + WILDCARDS;
    println!(
        "METRIC sni_bytes_per_name {:.1} bytes ({} patterns, {} bytes of heap)",
        bytes as f64 / patterns as f64,
        patterns,
        bytes
    );
    // Queries as clients send them: some upper case, some with the trailing dot.
    let exact_q: Vec<String> = (0..BATCH)
        .map(|k| {
            let n = exact(spread(k, NAMES));
            if k % 4 == 0 { n.to_uppercase() } else { n }
        })
        .collect();
    let wild_q: Vec<String> = (0..BATCH)
        .map(|k| format!("host{k}.apps{}.example.net.", spread(k, WILDCARDS)))
        .collect();
    let miss_q: Vec<String> = (0..BATCH)
        .map(|k| format!("svc{k}-web.unknown{k}.example.org"))
        .collect();
    for q in &exact_q {
        assert!(table.lookup(q).is_some(), "{q}");
    }
    for q in &wild_q {
        assert!(table.lookup(q).is_some(), "{q}");
    }
    for q in &miss_q {
        assert!(table.lookup(q).is_none(), "{q}");
    }
    let allocs = ALLOCATIONS.load(Ordering::Relaxed);
    for q in exact_q.iter().chain(&wild_q).chain(&miss_q) {
        black_box(table.lookup(q));
    }
    println!(
        "METRIC sni_lookup_allocs {} allocations",
        ALLOCATIONS.load(Ordering::Relaxed) - allocs
    );

    let mut g = c.benchmark_group("vhost_lookup_100k");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, queries) in [("exact", &exact_q), ("wildcard", &wild_q), ("miss", &miss_q)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut found = 0u32;
                for q in queries.iter() {
                    found = found.wrapping_add(table.lookup(black_box(q.as_bytes())).copied().unwrap_or(0));
                }
                found
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! { name = benches; config = config(); targets = bench }

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
