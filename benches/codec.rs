//! Benchmark 4: parsing the captured ClientHellos (`src/codec/fixtures/*.bin`, first records
//! from curl, GnuTLS and `openssl s_client`) with our codec and with the `tls-parser` crate.
//!
//! Same work on both sides: the record and handshake headers, the hello's fields and every
//! extension (tls-parser: `parse_tls_plaintext` then `parse_tls_client_hello_extensions`; ours:
//! `ClientHello::parse`, which also validates the inner structure of the extensions it knows),
//! then the host name is read. A counting global allocator shows the allocations per parse.
//!
//! `TLSEXT_BENCH_COUNT=N` skips criterion and parses every fixture N times through two
//! non-inlined functions, `codec_ours` and `codec_tls_parser`, for
//! `valgrind --tool=callgrind --toggle-collect=...` instruction counts (what `make bench` does).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};
use tlsext_shim::codec::ClientHello;

/// Counts allocations (and reallocations) made through the global allocator.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: caller's contract, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/codec/fixtures");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {}", dir.display());
    v
}

/// Ours: full parse and validation, then the host name. Returns its length (0 if none).
fn ours(record: &[u8]) -> usize {
    let hello = ClientHello::parse(record).unwrap();
    hello.host_name().map_or(0, str::len)
}

/// tls-parser: the record, the ClientHello, its extensions, then the host name.
fn theirs(record: &[u8]) -> usize {
    let (_, plain) = tls_parser::parse_tls_plaintext(record).unwrap();
    let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))) = plain.msg.first() else {
        panic!("not a ClientHello");
    };
    let (_, exts) = tls_parser::parse_tls_client_hello_extensions(hello.ext.unwrap_or(&[])).unwrap();
    exts.iter()
        .find_map(|e| match e {
            TlsExtension::SNI(names) => names.first().map(|(_, n)| n.len()),
            _ => None,
        })
        .unwrap_or(0)
}

#[inline(never)]
fn codec_ours(all: &[(String, Vec<u8>)], n: usize) -> usize {
    let mut sum = 0;
    for _ in 0..n {
        for (_, bytes) in all {
            sum += ours(black_box(bytes));
        }
    }
    sum
}

#[inline(never)]
fn codec_tls_parser(all: &[(String, Vec<u8>)], n: usize) -> usize {
    let mut sum = 0;
    for _ in 0..n {
        for (_, bytes) in all {
            sum += theirs(black_box(bytes));
        }
    }
    sum
}

fn allocations_of(f: impl Fn() -> usize) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    black_box(f());
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Checks both parsers agree, and prints the allocations per parse of each fixture.
fn report_allocations(all: &[(String, Vec<u8>)]) {
    let (mut total_ours, mut total_theirs) = (0, 0);
    for (name, bytes) in all {
        assert_eq!(
            ours(bytes),
            theirs(bytes),
            "{name}: the parsers disagree on the host name"
        );
        let a = allocations_of(|| ours(bytes));
        let b = allocations_of(|| theirs(bytes));
        println!(
            "allocations per parse of {name} ({} bytes): ours {a}, tls-parser {b}",
            bytes.len()
        );
        total_ours += a;
        total_theirs += b;
    }
    println!("METRIC codec_allocs_ours {total_ours} allocations");
    println!("METRIC codec_allocs_tls_parser {total_theirs} allocations");
    println!("METRIC codec_fixtures {} hellos", all.len());
}

fn bench(c: &mut Criterion) {
    let all = fixtures();
    let mut g = c.benchmark_group("clienthello_all_fixtures");
    g.bench_function("ours", |b| b.iter(|| codec_ours(&all, 1)));
    g.bench_function("tls_parser", |b| b.iter(|| codec_tls_parser(&all, 1)));
    g.finish();
    for (name, bytes) in &all {
        let mut g = c.benchmark_group(format!("clienthello_{name}"));
        g.bench_function("ours", |b| b.iter(|| ours(black_box(bytes))));
        g.bench_function("tls_parser", |b| b.iter(|| theirs(black_box(bytes))));
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! { name = benches; config = config(); targets = bench }

fn main() {
    let all = fixtures();
    if let Ok(n) = std::env::var("TLSEXT_BENCH_COUNT") {
        let n: usize = n.parse().unwrap();
        let a = codec_ours(&all, n);
        let b = codec_tls_parser(&all, n);
        assert_eq!(a, b);
        println!("METRIC codec_count_parses {} parses", n * all.len());
        return;
    }
    report_allocations(&all);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
