//! Tests of loading settings from the environment and the file.

use std::cell::Cell;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const CONFIG: &str = "/etc/tlsext-shim/shim.toml";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Loads from `env` alone; fails the test if a file is read.
fn env_only(env: &[(&str, &str)]) -> Result<Settings, Error> {
    Settings::load(env.iter().copied(), |path: &Path| -> io::Result<String> {
        panic!("unexpected read of {}", path.display())
    })
}

/// Loads from `env` plus `TLSEXT_SHIM_CONFIG=CONFIG` holding `text`.
fn with_file(env: &[(&str, &str)], text: &str) -> Result<Settings, Error> {
    let env = env.iter().copied().chain([(ENV_CONFIG, CONFIG)]);
    Settings::load(env, |path: &Path| {
        assert_eq!(path, Path::new(CONFIG));
        Ok(text.to_owned())
    })
}

fn file(text: &str) -> Result<Settings, Error> {
    with_file(&[], text)
}

fn file_error(text: &str) -> String {
    file(text).unwrap_err().to_string()
}

fn env_error(env: &[(&str, &str)]) -> String {
    env_only(env).unwrap_err().to_string()
}

fn vhost(names: &[&str], cert: &str, key: &str) -> VhostSettings {
    VhostSettings {
        names: names.iter().map(|n| n.to_string()).collect(),
        cert: cert.into(),
        key: key.into(),
    }
}

// ---- defaults --------------------------------------------------------------------------

#[test]
fn defaults() {
    let s = env_only(&[]).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.tickets.keys, KeySource::None);
    assert_eq!(s.tickets.format, KeyFormat::Auto);
    assert_eq!(s.tickets.rotate, secs(12 * 3600));
    assert_eq!(s.tickets.reload_interval, secs(1));
    assert_eq!(s.tickets.lifetime, None);
    assert_eq!(s.log.level, LogLevel::Warn);
    assert_eq!(s.log.to, LogTarget::Stderr);
    assert_eq!(s.metrics.dir, None);
    assert_eq!(s.metrics.interval, secs(10));
    assert!(!s.sni.strict);
    assert!(s.sni.vhosts.is_empty());
    assert_eq!(s.config_path, None);
    assert!(!s.is_active());
}

#[test]
fn empty_file_gives_defaults() {
    let s = file("# nothing\n").unwrap();
    assert_eq!(
        s,
        Settings {
            config_path: Some(CONFIG.into()),
            ..Settings::default()
        }
    );
}

#[test]
fn other_variables_are_ignored() {
    let s = env_only(&[("PATH", "/bin"), ("TLSEXT_SHIM_UNKNOWN", "x"), ("tlsext_shim_log", "x")]).unwrap();
    assert_eq!(s, Settings::default());
}

// ---- environment -----------------------------------------------------------------------

#[test]
fn every_variable() {
    let s = env_only(&[
        (ENV_TICKET_KEYS, "/keys/ticket.key"),
        (ENV_TICKET_KEY_FORMAT, "haproxy"),
        (ENV_TICKET_ROTATE, "90s"),
        (ENV_TICKET_LIFETIME, "1h"),
        (ENV_RELOAD_INTERVAL, "5m"),
        (ENV_LOG, "debug"),
        (ENV_LOG_TO, "syslog"),
        (ENV_METRICS, "/run/metrics"),
        (ENV_METRICS_INTERVAL, "7d"),
    ])
    .unwrap();
    let expected = Settings {
        tickets: TicketSettings {
            keys: KeySource::Path("/keys/ticket.key".into()),
            format: KeyFormat::Haproxy,
            rotate: secs(90),
            reload_interval: secs(300),
            lifetime: Some(secs(3600)),
        },
        log: LogSettings {
            level: LogLevel::Debug,
            to: LogTarget::Syslog,
        },
        metrics: MetricsSettings {
            dir: Some("/run/metrics".into()),
            interval: secs(7 * 86400),
        },
        sni: SniSettings::default(),
        config_path: None,
    };
    assert_eq!(s, expected);
    assert!(s.is_active());
}

#[test]
fn key_sources() {
    let keys = |v: &str| env_only(&[(ENV_TICKET_KEYS, v)]).map(|s| s.tickets.keys);
    assert_eq!(keys("").unwrap(), KeySource::None);
    assert_eq!(keys("auto").unwrap(), KeySource::Auto);
    assert_eq!(keys("seed:/etc/seed").unwrap(), KeySource::Seed("/etc/seed".into()));
    assert_eq!(keys("seed:rel/seed").unwrap(), KeySource::Seed("rel/seed".into()));
    assert_eq!(keys("/etc/keys/").unwrap(), KeySource::Path("/etc/keys/".into()));
    assert_eq!(keys("rel.key").unwrap(), KeySource::Path("rel.key".into()));
    // Only the exact keyword is special.
    assert_eq!(keys("AUTO").unwrap(), KeySource::Path("AUTO".into()));
    assert_eq!(keys("./auto").unwrap(), KeySource::Path("./auto".into()));
    assert_eq!(
        env_error(&[(ENV_TICKET_KEYS, "seed:")]),
        "environment variable TLSEXT_SHIM_TICKET_KEYS: `seed:` must be followed by the seed \
         file's path"
    );
}

#[test]
fn key_formats() {
    for format in KeyFormat::ALL {
        let s = env_only(&[(ENV_TICKET_KEY_FORMAT, format.as_str())]).unwrap();
        assert_eq!(s.tickets.format, format);
        assert_eq!(KeyFormat::from_name(format.as_str()), Some(format));
    }
    assert_eq!(
        env_error(&[(ENV_TICKET_KEY_FORMAT, "NGINX")]),
        "environment variable TLSEXT_SHIM_TICKET_KEY_FORMAT: invalid value \"NGINX\"; expected \
         one of: auto, nginx, haproxy, openssl"
    );
    assert!(env_error(&[(ENV_TICKET_KEY_FORMAT, "")]).contains("invalid value \"\""));
}

#[test]
fn log_settings() {
    for level in LogLevel::ALL {
        assert_eq!(env_only(&[(ENV_LOG, level.as_str())]).unwrap().log.level, level);
        assert_eq!(LogLevel::from_name(level.as_str()), Some(level));
    }
    assert!(LogLevel::Off < LogLevel::Error && LogLevel::Info < LogLevel::Debug);
    for to in LogTarget::ALL {
        assert_eq!(env_only(&[(ENV_LOG_TO, to.as_str())]).unwrap().log.to, to);
        assert_eq!(LogTarget::from_name(to.as_str()), Some(to));
    }
    assert_eq!(
        env_error(&[(ENV_LOG, "verbose")]),
        "environment variable TLSEXT_SHIM_LOG: invalid value \"verbose\"; expected one of: off, \
         error, warn, info, debug"
    );
    assert_eq!(
        env_error(&[(ENV_LOG_TO, "journald")]),
        "environment variable TLSEXT_SHIM_LOG_TO: invalid value \"journald\"; expected one of: \
         stderr, syslog"
    );
}

#[test]
fn env_durations() {
    let s = env_only(&[
        (ENV_RELOAD_INTERVAL, "0"),
        (ENV_METRICS_INTERVAL, "0s"),
        (ENV_TICKET_LIFETIME, "0"),
    ])
    .unwrap();
    assert_eq!(s.tickets.reload_interval, secs(0));
    assert_eq!(s.metrics.interval, secs(0));
    assert_eq!(s.tickets.lifetime, Some(secs(0)));
}

#[test]
fn env_duration_errors() {
    let cases = [
        (
            ENV_TICKET_ROTATE,
            "0",
            "invalid duration \"0\": must be greater than zero",
        ),
        (
            ENV_TICKET_ROTATE,
            "0h",
            "invalid duration \"0h\": must be greater than zero",
        ),
        (ENV_TICKET_ROTATE, "", "invalid duration \"\": empty value"),
        (
            ENV_TICKET_ROTATE,
            "-1h",
            "invalid duration \"-1h\": must not be negative",
        ),
        (
            ENV_TICKET_ROTATE,
            "12x",
            "invalid duration \"12x\": unknown unit \"x\"; use s, m, h or d",
        ),
        (
            ENV_RELOAD_INTERVAL,
            "1.5",
            "invalid duration \"1.5\": fractions are not allowed",
        ),
        (
            ENV_METRICS_INTERVAL,
            "99999999999999999999",
            "invalid duration \"99999999999999999999\": too large",
        ),
        (
            ENV_TICKET_LIFETIME,
            "h",
            "invalid duration \"h\": expected a whole number",
        ),
    ];
    for (var, value, message) in cases {
        let error = env_error(&[(var, value)]);
        assert!(
            error.starts_with(&format!("environment variable {var}: {message}")),
            "{var}={value:?}: {error}"
        );
    }
}

#[test]
fn empty_metrics_dir_is_off() {
    assert_eq!(env_only(&[(ENV_METRICS, "")]).unwrap().metrics.dir, None);
}

#[test]
fn last_value_of_a_repeated_variable_counts() {
    let s = env_only(&[(ENV_LOG, "bogus"), (ENV_LOG, "info")]).unwrap();
    assert_eq!(s.log.level, LogLevel::Info);
}

#[test]
fn empty_config_variable_reads_no_file() {
    assert_eq!(env_only(&[(ENV_CONFIG, "")]).unwrap(), Settings::default());
}

#[test]
fn unreadable_config_file() {
    let error = Settings::load([(ENV_CONFIG, "/nonexistent/shim.toml")], |_: &Path| {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such file"))
    })
    .unwrap_err();
    assert!(matches!(error, Error::Read { .. }));
    assert_eq!(
        error.to_string(),
        "/nonexistent/shim.toml (TLSEXT_SHIM_CONFIG): cannot read: no such file"
    );
}

#[test]
fn file_is_read_once_at_its_path() {
    let reads = Cell::new(0);
    let s = Settings::load([(ENV_CONFIG, "rel/shim.toml")], |path: &Path| {
        reads.set(reads.get() + 1);
        assert_eq!(path, Path::new("rel/shim.toml"));
        Ok("[tickets]\nkeys = \"k\"\n".to_owned())
    })
    .unwrap();
    assert_eq!(reads.get(), 1);
    assert_eq!(s.config_path, Some("rel/shim.toml".into()));
    assert_eq!(s.tickets.keys, KeySource::Path("rel/k".into()));
}

#[cfg(unix)]
#[test]
fn non_utf8_environment() {
    use std::ffi::OsString;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    let bad = |prefix: &[u8]| OsString::from_vec([prefix, b"/k\xff"].concat());
    let load =
        |var: &str, value: OsString| Settings::load([(OsString::from(var), value)], |_: &Path| Ok(String::new()));
    let s = load(ENV_TICKET_KEYS, bad(b"")).unwrap();
    assert_eq!(s.tickets.keys, KeySource::Path(PathBuf::from(bad(b""))));
    let s = load(ENV_TICKET_KEYS, bad(b"seed:")).unwrap();
    assert_eq!(
        s.tickets.keys,
        KeySource::Seed(PathBuf::from(std::ffi::OsStr::from_bytes(b"/k\xff")))
    );
    let s = load(ENV_METRICS, bad(b"")).unwrap();
    assert_eq!(s.metrics.dir, Some(PathBuf::from(bad(b""))));
    assert_eq!(
        load(ENV_LOG, bad(b"")).unwrap_err().to_string(),
        "environment variable TLSEXT_SHIM_LOG: value is not valid UTF-8"
    );
    assert!(load(ENV_TICKET_ROTATE, bad(b"")).is_err());
    // A name that is not UTF-8 is simply not one of ours.
    let s = Settings::load([(bad(b"X"), OsString::from("x"))], |_: &Path| Ok(String::new()));
    assert_eq!(s.unwrap(), Settings::default());
}

// ---- the file --------------------------------------------------------------------------

const EXAMPLE: &str = r#"
[tickets]
keys = "/etc/tlsext-shim/ticket.keys"    # same values as TLSEXT_SHIM_TICKET_KEYS
format = "nginx"
rotate = "6h"
reload_interval = "2s"
lifetime = "1h"

[log]
level = "info"
to = "syslog"

[metrics]
dir = "/var/lib/tlsext-shim"
interval = "30s"

[sni]
strict = true

[[sni.vhost]]
names = ["www.example.com", "example.com"]
cert  = "/etc/ssl/example.pem"
key   = "/etc/ssl/example.key"

[[sni.vhost]]
names = ["*.apps.example.com"]
cert  = "/etc/ssl/apps.pem"
key   = "/etc/ssl/apps.key"
"#;

#[test]
fn full_file() {
    let s = file(EXAMPLE).unwrap();
    let expected = Settings {
        tickets: TicketSettings {
            keys: KeySource::Path("/etc/tlsext-shim/ticket.keys".into()),
            format: KeyFormat::Nginx,
            rotate: secs(6 * 3600),
            reload_interval: secs(2),
            lifetime: Some(secs(3600)),
        },
        log: LogSettings {
            level: LogLevel::Info,
            to: LogTarget::Syslog,
        },
        metrics: MetricsSettings {
            dir: Some("/var/lib/tlsext-shim".into()),
            interval: secs(30),
        },
        sni: SniSettings {
            strict: true,
            vhosts: vec![
                vhost(
                    &["www.example.com", "example.com"],
                    "/etc/ssl/example.pem",
                    "/etc/ssl/example.key",
                ),
                vhost(&["*.apps.example.com"], "/etc/ssl/apps.pem", "/etc/ssl/apps.key"),
            ],
        },
        config_path: Some(CONFIG.into()),
    };
    assert_eq!(s, expected);
    assert!(s.is_active());
}

#[test]
fn from_toml_alone() {
    let s = Settings::from_toml(Path::new("a/b.toml"), "[metrics]\ndir = \"m\"\n").unwrap();
    assert_eq!(s.metrics.dir, Some("a/m".into()));
    assert_eq!(s.config_path, Some("a/b.toml".into()));
}

#[test]
fn env_overrides_file() {
    let env = [
        (ENV_TICKET_KEYS, "auto"),
        (ENV_TICKET_KEY_FORMAT, "openssl"),
        (ENV_TICKET_ROTATE, "1d"),
        (ENV_RELOAD_INTERVAL, "3s"),
        (ENV_TICKET_LIFETIME, "10m"),
        (ENV_LOG, "off"),
        (ENV_LOG_TO, "stderr"),
        (ENV_METRICS, "/env/metrics"),
        (ENV_METRICS_INTERVAL, "1m"),
    ];
    let s = with_file(&env, EXAMPLE).unwrap();
    assert_eq!(
        s.tickets,
        TicketSettings {
            keys: KeySource::Auto,
            format: KeyFormat::Openssl,
            rotate: secs(86400),
            reload_interval: secs(3),
            lifetime: Some(secs(600)),
        }
    );
    assert_eq!(
        s.log,
        LogSettings {
            level: LogLevel::Off,
            to: LogTarget::Stderr
        }
    );
    assert_eq!(
        s.metrics,
        MetricsSettings {
            dir: Some("/env/metrics".into()),
            interval: secs(60)
        }
    );
    // No variable for these: the file's values stand.
    assert!(s.sni.strict);
    assert_eq!(s.sni.vhosts.len(), 2);
}

#[test]
fn file_values_stand_where_env_is_unset() {
    let s = with_file(&[(ENV_LOG, "error")], EXAMPLE).unwrap();
    assert_eq!(s.log.level, LogLevel::Error);
    assert_eq!(s.log.to, LogTarget::Syslog);
    assert_eq!(s.tickets.rotate, secs(6 * 3600));
}

#[test]
fn empty_env_switches_file_features_off() {
    let s = with_file(&[(ENV_TICKET_KEYS, ""), (ENV_METRICS, "")], EXAMPLE).unwrap();
    assert_eq!(s.tickets.keys, KeySource::None);
    assert_eq!(s.metrics.dir, None);
    // Still active: the file has vhosts.
    assert!(s.is_active());
}

#[test]
fn env_error_after_good_file() {
    let error = with_file(&[(ENV_TICKET_ROTATE, "0")], EXAMPLE).unwrap_err();
    assert!(matches!(
        error,
        Error::Env {
            var: ENV_TICKET_ROTATE,
            ..
        }
    ));
}

#[test]
fn relative_paths_resolve_against_the_file() {
    let text = r#"
        tickets.keys = "keys/ticket.keys"
        metrics.dir = "../metrics"
        [[sni.vhost]]
        names = ["a"]
        cert = "certs/a.pem"
        key = "/abs/a.key"
    "#;
    let s = file(text).unwrap();
    assert_eq!(
        s.tickets.keys,
        KeySource::Path("/etc/tlsext-shim/keys/ticket.keys".into())
    );
    assert_eq!(s.metrics.dir, Some("/etc/tlsext-shim/../metrics".into()));
    assert_eq!(
        s.sni.vhosts,
        vec![vhost(&["a"], "/etc/tlsext-shim/certs/a.pem", "/abs/a.key")]
    );

    let seed = file("[tickets]\nkeys = \"seed:seed.bin\"\n").unwrap();
    assert_eq!(seed.tickets.keys, KeySource::Seed("/etc/tlsext-shim/seed.bin".into()));
    let auto = file("[tickets]\nkeys = \"auto\"\n").unwrap();
    assert_eq!(auto.tickets.keys, KeySource::Auto);
    let none = file("[tickets]\nkeys = \"\"\n").unwrap();
    assert_eq!(none.tickets.keys, KeySource::None);
    let no_dir = file("[metrics]\ndir = \"\"\n").unwrap();
    assert_eq!(no_dir.metrics.dir, None);
}

#[test]
fn file_in_current_directory() {
    let s = Settings::from_toml(Path::new("shim.toml"), "tickets.keys = \"k\"").unwrap();
    assert_eq!(s.tickets.keys, KeySource::Path("k".into()));
}

#[test]
fn integer_durations() {
    let s = file("[tickets]\nrotate = 90\nreload_interval = 0\nlifetime = 3600\n[metrics]\ninterval = 5\n").unwrap();
    assert_eq!(s.tickets.rotate, secs(90));
    assert_eq!(s.tickets.reload_interval, secs(0));
    assert_eq!(s.tickets.lifetime, Some(secs(3600)));
    assert_eq!(s.metrics.interval, secs(5));
}

#[test]
fn other_toml_shapes() {
    // Inline tables, dotted keys, literal strings, and a vhost array written inline.
    let text = r#"
tickets = { rotate = '2h', format = "openssl" }
log.level = "debug"
sni.strict = true
sni.vhost = [{ names = ["a"], cert = "a.pem", key = "a.key" }]
"#;
    let s = file(text).unwrap();
    assert_eq!(s.tickets.rotate, secs(7200));
    assert_eq!(s.tickets.format, KeyFormat::Openssl);
    assert_eq!(s.log.level, LogLevel::Debug);
    assert!(s.sni.strict);
    assert_eq!(
        s.sni.vhosts,
        vec![vhost(&["a"], "/etc/tlsext-shim/a.pem", "/etc/tlsext-shim/a.key")]
    );
}

#[test]
fn vhost_without_sni_table_and_empty_vhost_list() {
    let s = file("[[sni.vhost]]\nnames = [\"x\", \"y\"]\ncert = \"c\"\nkey = \"k\"\n").unwrap();
    assert_eq!(s.sni.vhosts[0].names, ["x", "y"]);
    assert!(!s.sni.strict);
    let s = file("[sni]\nvhost = []\n").unwrap();
    assert!(s.sni.vhosts.is_empty());
    assert!(!s.is_active());
}

#[test]
fn vhost_names_are_kept_raw() {
    let s = file("[[sni.vhost]]\nnames = [\"WWW.Example.COM.\", \"\"]\ncert = \"c\"\nkey = \"k\"\n").unwrap();
    assert_eq!(s.sni.vhosts[0].names, ["WWW.Example.COM.", ""]);
}

// ---- file errors -----------------------------------------------------------------------

#[test]
fn duration_errors_in_file() {
    let cases = [
        (
            "[tickets]\nrotate = \"0\"\n",
            2,
            "tickets.rotate",
            "invalid duration \"0\": must be greater than zero",
        ),
        (
            "[tickets]\n\nrotate = 0\n",
            3,
            "tickets.rotate",
            "invalid duration \"0\": must be greater than zero",
        ),
        (
            "[tickets]\nrotate = -5\n",
            2,
            "tickets.rotate",
            "invalid duration \"-5\": must not be negative",
        ),
        (
            "[tickets]\nlifetime = \"1w\"\n",
            2,
            "tickets.lifetime",
            "invalid duration \"1w\": unknown unit \"w\"",
        ),
        (
            "[tickets]\nreload_interval = \"\"\n",
            2,
            "tickets.reload_interval",
            "invalid duration \"\": empty value",
        ),
        (
            "\n[metrics]\ninterval = \"99999999999999999999s\"\n",
            3,
            "metrics.interval",
            "invalid duration \"99999999999999999999s\": too large",
        ),
        (
            "[metrics]\ninterval = 1.5\n",
            2,
            "metrics.interval",
            "expected a duration string or an integer, found a float",
        ),
        (
            "[tickets]\nrotate = true\n",
            2,
            "tickets.rotate",
            "expected a duration string or an integer, found a boolean",
        ),
    ];
    for (text, line, key, message) in cases {
        let error = file_error(text);
        let expected = format!("{CONFIG}:{line}: key `{key}`: {message}");
        assert!(
            error.starts_with(&expected),
            "{text:?}\n got: {error}\nwant: {expected}"
        );
    }
}

#[test]
fn error_carries_its_parts() {
    match file("\n\n[tickets]\nrotate = \"5x\"\n").unwrap_err() {
        Error::Key {
            path,
            line,
            key,
            problem,
        } => {
            assert_eq!(path, Path::new(CONFIG));
            assert_eq!(line, 4);
            assert_eq!(key, "tickets.rotate");
            assert_eq!(
                problem,
                Problem::Duration {
                    value: "\"5x\"".into(),
                    reason: DurationError::UnknownSuffix { suffix: "x".into() }
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn choice_errors_in_file() {
    assert_eq!(
        file_error("[tickets]\nformat = \"pem\"\n"),
        format!(
            "{CONFIG}:2: key `tickets.format`: invalid value \"pem\"; expected one of: auto, \
             nginx, haproxy, openssl"
        )
    );
    assert_eq!(
        file_error("[log]\nlevel = \"trace\"\n"),
        format!(
            "{CONFIG}:2: key `log.level`: invalid value \"trace\"; expected one of: off, error, \
             warn, info, debug"
        )
    );
    assert_eq!(
        file_error("[log]\nto = \"file\"\n"),
        format!("{CONFIG}:2: key `log.to`: invalid value \"file\"; expected one of: stderr, syslog")
    );
    assert_eq!(
        file_error("[tickets]\nkeys = \"seed:\"\n"),
        format!("{CONFIG}:2: key `tickets.keys`: `seed:` must be followed by the seed file's path")
    );
}

#[test]
fn unknown_keys() {
    let cases = [
        ("bogus = 1\n", 1, "bogus", "tickets, log, metrics, sni"),
        ("[log]\nlevel = \"warn\"\ncolour = true\n", 3, "log.colour", "level, to"),
        (
            "[tickets]\nkey = \"/k\"\n",
            2,
            "tickets.key",
            "keys, format, rotate, reload_interval, lifetime",
        ),
        (
            "[metrics]\ndirectory = \"/m\"\n",
            2,
            "metrics.directory",
            "dir, interval",
        ),
        ("[sni]\nvhosts = []\n", 2, "sni.vhosts", "strict, vhost"),
        ("\n\n[extra]\nx = 1\n", 3, "extra", "tickets, log, metrics, sni"),
        ("[tickets.nested]\nx = 1\n", 1, "tickets.nested", "keys, format"),
        ("[a.b.c]\nx = 1\n", 1, "a", "tickets, log"),
        ("x.y = 1\n", 1, "x", "tickets, log"),
        ("\"odd key\" = 1\n", 1, "\"odd key\"", "tickets"),
        ("[log]\n\"a.b\" = 1\n", 2, "log.\"a.b\"", "level, to"),
    ];
    for (text, line, key, expected) in cases {
        let error = file_error(text);
        let want = format!("{CONFIG}:{line}: key `{key}`: unknown key; expected one of: {expected}");
        assert!(error.starts_with(&want), "{text:?}\n got: {error}\nwant: {want}");
    }
}

#[test]
fn wrong_types() {
    let cases = [
        ("tickets = 5\n", 1, "tickets", "expected a table, found an integer"),
        ("log = \"info\"\n", 1, "log", "expected a table, found a string"),
        (
            "[tickets]\nkeys = 5\n",
            2,
            "tickets.keys",
            "expected a string, found an integer",
        ),
        (
            "[tickets]\nformat = [\"nginx\"]\n",
            2,
            "tickets.format",
            "expected a string, found an array",
        ),
        (
            "[metrics]\ndir = { path = \"/m\" }\n",
            2,
            "metrics.dir",
            "expected a string, found a table",
        ),
        (
            "[sni]\nstrict = \"yes\"\n",
            2,
            "sni.strict",
            "expected a boolean, found a string",
        ),
        (
            "[sni]\nstrict = 1979-05-27\n",
            2,
            "sni.strict",
            "expected a boolean, found a datetime",
        ),
        (
            "[sni.vhost]\nnames = [\"a\"]\n",
            1,
            "sni.vhost",
            "expected an array of tables, found a table",
        ),
        (
            "[sni]\nvhost = [\"a\"]\n",
            2,
            "sni.vhost[0]",
            "expected a table, found a string",
        ),
        (
            "[[sni.vhost]]\nnames = \"a\"\n",
            2,
            "sni.vhost[0].names",
            "expected an array of strings, found a string",
        ),
        (
            "[[sni.vhost]]\nnames = [\n  \"a\",\n  7,\n]\n",
            4,
            "sni.vhost[0].names[1]",
            "expected a string, found an integer",
        ),
    ];
    for (text, line, key, message) in cases {
        let error = file_error(text);
        let want = format!("{CONFIG}:{line}: key `{key}`: {message}");
        assert_eq!(error, want, "{text:?}");
    }
}

#[test]
fn vhost_errors_name_the_vhost() {
    let good = "[[sni.vhost]]\nnames = [\"a.example\"]\ncert = \"a.pem\"\nkey = \"a.key\"\n\n";
    let cases = [
        (
            "[[sni.vhost]]\nnames = [\"b.example\", \"c.example\"]\nkey = \"b.key\"\n",
            6,
            "sni.vhost[1]",
            "vhost \"b.example\": missing required key `cert`",
        ),
        (
            "[[sni.vhost]]\ncert = \"b.pem\"\nnames = [\"b.example\"]\n",
            6,
            "sni.vhost[1]",
            "vhost \"b.example\": missing required key `key`",
        ),
        (
            "[[sni.vhost]]\ncert = \"b.pem\"\nkey = \"b.key\"\n",
            6,
            "sni.vhost[1]",
            "missing required key `names`",
        ),
        (
            "[[sni.vhost]]\nnames = []\n",
            7,
            "sni.vhost[1].names",
            "`names` must list at least one host name",
        ),
        (
            "[[sni.vhost]]\nnames = [\"b.example\"]\ncert = \"\"\nkey = \"b.key\"\n",
            8,
            "sni.vhost[1].cert",
            "vhost \"b.example\": path must not be empty",
        ),
        (
            "[[sni.vhost]]\nnames = [\"b.example\"]\ncert = \"b.pem\"\nkey = 1\n",
            9,
            "sni.vhost[1].key",
            "vhost \"b.example\": expected a string, found an integer",
        ),
        (
            "[[sni.vhost]]\nnames = [\"b.example\"]\ncert = \"b.pem\"\nkey = \"b.key\"\nchain = \"x\"\n",
            10,
            "sni.vhost[1].chain",
            "vhost \"b.example\": unknown key; expected one of: names, cert, key",
        ),
    ];
    for (second, line, key, message) in cases {
        let text = format!("{good}{second}");
        let error = file_error(&text);
        let want = format!("{CONFIG}:{line}: key `{key}`: {message}");
        assert_eq!(error, want, "{text:?}");
    }
}

#[test]
fn empty_vhost_table() {
    assert_eq!(
        file_error("\n[[sni.vhost]]\n"),
        format!("{CONFIG}:2: key `sni.vhost[0]`: missing required key `names`")
    );
}

#[test]
fn inline_vhost_error_line() {
    let text = "[sni]\nvhost = [\n  { names = [\"a\"], cert = \"a\", key = \"a\" },\n  { names = [\"b\"] },\n]\n";
    assert_eq!(
        file_error(text),
        format!("{CONFIG}:4: key `sni.vhost[1]`: vhost \"b\": missing required key `cert`")
    );
}

#[test]
fn dotted_and_inline_keys_report_their_line() {
    assert_eq!(
        file_error("# c\n\ntickets.rotate = \"0\"\n"),
        format!("{CONFIG}:3: key `tickets.rotate`: invalid duration \"0\": must be greater than zero")
    );
    assert_eq!(
        file_error("\n\ntickets = { format = \"nginx\", rotate = \"9q\" }\n"),
        format!("{CONFIG}:3: key `tickets.rotate`: invalid duration \"9q\": unknown unit \"q\"; use s, m, h or d")
    );
}

#[test]
fn syntax_errors() {
    let error = file("[tickets]\nrotate = \"12h\"\nkeys = \n").unwrap_err();
    assert!(matches!(error, Error::Syntax { line: 3, .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with(&format!("{CONFIG}:3: invalid TOML: ")), "{message}");
    assert!(!message.contains('\n'), "{message}");

    let duplicate = file_error("[log]\nlevel = \"info\"\nlevel = \"warn\"\n");
    assert!(
        duplicate.starts_with(&format!("{CONFIG}:3: invalid TOML: ")),
        "{duplicate}"
    );
    assert!(duplicate.contains("level"), "{duplicate}");

    let unclosed = file_error("[tickets\n");
    assert!(
        unclosed.starts_with(&format!("{CONFIG}:1: invalid TOML: ")),
        "{unclosed}"
    );
}

#[test]
fn messages_quote_only_the_key_and_the_value() {
    let secret = "hunter2-not-for-logs";
    let cases = [
        format!("# {secret}\n[tickets]\nrotate = \"5x\" # {secret}\n"),
        format!("[log]\nlevel = \"info\"\n[tickets]\nkeys = \"/k\"\nbogus = \"{secret}\"\n"),
        format!("[log]\nlevel = \"info\" # {secret}\nto = 5\n"),
        format!("[tickets]\nkeys = \"{secret}\"\nrotate = !\n"),
        format!("[tickets]\nkeys = \"{secret}\"\nkeys = \"x\"\n"),
    ];
    for text in cases {
        let message = file_error(&text);
        assert!(!message.contains(secret), "{message}");
    }
}

#[test]
fn long_values_are_cut() {
    let long = "9".repeat(500);
    let message = file_error(&format!("[tickets]\nrotate = \"{long}x\"\n"));
    assert!(message.contains(&format!("\"{}\"...", "9".repeat(64))), "{message}");
    assert!(message.len() < 200, "{message}");
}

#[test]
fn control_characters_are_escaped() {
    let message = file_error("[log]\nlevel = \"warn\\u001b[2J\\n\"\n");
    assert!(message.contains(r#""warn\u{1b}[2J\n""#), "{message}");
    assert!(!message.contains('\u{1b}') && !message.contains('\n'), "{message}");
}

#[test]
fn first_error_in_file_order_is_reported() {
    let message = file_error("[log]\nlevel = \"x\"\n[tickets]\nrotate = \"y\"\n");
    assert!(message.contains("log.level"), "{message}");
}

#[test]
fn file_error_wins_over_env_error() {
    let error = with_file(&[(ENV_LOG, "x")], "[log]\nto = \"y\"\n").unwrap_err();
    assert!(matches!(error, Error::Key { .. }), "{error:?}");
}

#[test]
fn is_active() {
    assert!(!Settings::default().is_active());
    let mut s = Settings::default();
    s.tickets.keys = KeySource::Auto;
    assert!(s.is_active());
    let mut s = Settings::default();
    s.sni.vhosts.push(vhost(&["a"], "c", "k"));
    assert!(s.is_active());
    let mut s = Settings::default();
    s.sni.strict = true;
    s.metrics.dir = Some("/m".into());
    assert!(!s.is_active());
}

#[test]
fn keys_named_like_toml_internals_are_just_unknown() {
    let cases = [
        "\"$__serde_spanned_private_start\" = 1\n",
        "a.\"$__serde_spanned_private_start\" = 1\n",
        "a.\"$__serde_spanned_private_start\".b = 1\n",
        "[log.\"$__serde_spanned_private_start\".x]\n",
        "[log]\n\"$__toml_private_datetime\" = 1\n",
        "[tickets.\"$__toml_private_datetime\"]\ny = 1\n",
        "x.\"$__toml_private_datetime\".y = 1\n",
    ];
    for text in cases {
        let message = file_error(text);
        assert!(message.starts_with(CONFIG), "{text:?}: {message}");
    }
}
