//! The smoke run of the fuzz targets: every seed of `fuzz/corpus/<target>/`
//! goes through the same harness function the cargo-fuzz target calls
//! (`fuzz/src/lib.rs`, included here as a module), so that the targets and
//! their invariants are exercised in CI, where no fuzzer runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../fuzz/src/lib.rs"]
#[allow(missing_docs, unreachable_pub)]
mod harness;

use oauth_all::PROVIDERS;
use oauth_all::aliexpress;
use oauth_core::provider::registry::ClientOptions;
use oauth_core::{Grant, RawResponse};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// The seeds of `target`, sorted by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

/// Runs every seed of `target` through `run`, reporting every seed that
/// panics (not only the first); returns how many ran.
fn smoke(target: &str, run: fn(&[u8])) -> usize {
    let seeds = seeds(target);
    assert!(seeds.len() >= 5, "{target}: only {} seeds", seeds.len());
    let failures: Vec<&str> = seeds
        .iter()
        .filter(|(_, data)| std::panic::catch_unwind(|| run(data)).is_err())
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        failures.is_empty(),
        "{target}: seeds that fail: {failures:?}"
    );
    seeds.len()
}

#[test]
fn every_target_has_a_seed_corpus_and_a_test_here() {
    let mut on_disk: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    on_disk.sort();
    let mut targets: Vec<String> = harness::TARGETS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .chain(PROVIDERS.iter().map(|e| format!("decode_{}", e.name)))
        .collect();
    targets.sort();
    assert_eq!(on_disk, targets);
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/Cargo.toml"))
            .unwrap();
    for target in &targets {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "{target} is not a [[bin]] of fuzz/Cargo.toml"
        );
        let source =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../fuzz/fuzz_targets/{target}.rs"));
        assert!(source.is_file(), "{}", source.display());
    }
}

/// Each provider's corpus through the registry-driven decoder with that
/// provider fixed (what the thin `decode_<provider>` targets run).
#[test]
fn decode_provider_seeds() {
    for entry in PROVIDERS {
        let name = entry.name;
        let target = format!("decode_{name}");
        let seeds = seeds(&target);
        assert!(seeds.len() >= 5, "{target}: only {} seeds", seeds.len());
        let failures: Vec<&str> = seeds
            .iter()
            .filter(|(_, data)| {
                std::panic::catch_unwind(|| harness::decode_named(name, data)).is_err()
            })
            .map(|(seed, _)| seed.as_str())
            .collect();
        assert!(
            failures.is_empty(),
            "{target}: seeds that fail: {failures:?}"
        );
    }
}

/// The registry-driven target's corpus; each seed's first byte is the index
/// of the provider its name says.
#[test]
fn decode_token_response_seeds() {
    smoke("decode_token_response", harness::decode_token_response);
    for (seed, data) in seeds("decode_token_response") {
        let provider = seed.split('.').next().unwrap();
        assert_eq!(
            data.first().copied(),
            harness::provider_index(provider),
            "decode_token_response/{seed}: byte 0 is not {provider}'s index"
        );
    }
}

/// Every provider's seeds through every other provider's decoder: a new
/// provider is exercised before it has a corpus of its own.
#[test]
fn every_provider_decodes_every_seed() {
    let mut all = Vec::new();
    for entry in PROVIDERS {
        all.extend(
            seeds(&format!("decode_{}", entry.name))
                .into_iter()
                .map(|(_, data)| data),
        );
    }
    for entry in PROVIDERS {
        for data in &all {
            harness::decode_named(entry.name, data);
        }
    }
}

#[test]
fn parse_callback_seeds() {
    smoke("parse_callback", harness::callback);
}

#[test]
fn aliexpress_signer_seeds() {
    smoke("aliexpress_signer", harness::aliexpress_signer);
}

/// The seeds are what their names say: the token fixtures decode, every
/// other seed is refused (so a broken seed header cannot go unnoticed).
#[test]
fn decoder_seeds_decode_as_their_names_say() {
    for entry in PROVIDERS {
        let client = entry
            .build(&entry.example_values(), ClientOptions::default())
            .unwrap();
        let decode = |response: &RawResponse| {
            client
                .decode_token_set(response, &Grant::AuthorizationCode, UNIX_EPOCH)
                .is_ok()
        };
        let target = format!("decode_{}", entry.name);
        let mut tokens = 0;
        for (name, data) in seeds(&target) {
            let (status, content_type, body) = harness::split_response(&data);
            let response = RawResponse::new(entry.name, status, content_type, body.to_vec());
            let is_token = !name.starts_with("error")
                && (name.starts_with("token_")
                    || name.ends_with("_token")
                    || name == "application_token_refresh_na");
            assert_eq!(
                decode(&response),
                is_token,
                "{target}/{name} (HTTP {status})"
            );
            tokens += usize::from(is_token);
        }
        assert!(tokens >= 2, "{target}: only {tokens} token seeds");
    }
}

/// The signer seeds named `vector_*` are the platform's published vectors.
#[test]
fn signer_vector_seeds_give_the_published_signatures() {
    let expected = [
        (
            "vector_create",
            "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81",
        ),
        (
            "vector_business",
            "F7F7926B67316C9D1E8E15F7E66940ED3059B1638C497D77973F30046EFB5BBB",
        ),
        (
            "vector_order",
            "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A",
        ),
    ];
    for (name, sign) in expected {
        let data = std::fs::read(corpus("aliexpress_signer").join(name)).unwrap();
        let text = String::from_utf8(data).unwrap();
        let mut lines = text.split('\n');
        let secret = lines.next().unwrap();
        let api = lines.next().unwrap();
        let params: Vec<(&str, &str)> = lines.map(|l| l.split_once('=').unwrap()).collect();
        let signer = aliexpress::Signer::new(&oauth_core::AppSecret::new(secret)).unwrap();
        assert_eq!(signer.sign(api, params).expose_secret(), sign, "{name}");
    }
}
