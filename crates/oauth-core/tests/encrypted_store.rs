//! `EncryptedStore`: round trips over every store, what stays in clear,
//! typed failures that leave the entry untouched, key files, rotation and
//! `rekey` under concurrent refreshes, a real `TokenManager` on top, a
//! sentinel sweep of every output (tracing at TRACE), and property tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine;
use oauth_core::lifecycle::{
    EncryptedStore, KeyFiles, KeyId, KeyProvider, Keyring, RekeyOutcome, SaveOutcome, StoreKey,
    StoredForm, Versioned,
};
use oauth_core::zeroize::Zeroizing;
use oauth_core::{
    AccessToken, AccountKey, DecryptionFailure, Error, FileStore, MemoryStore, ProviderDetails,
    RefreshGrant, RefreshStarted, RefreshToken, Scopes, TokenManager, TokenSet, TokenStore,
    TokenType, async_trait, from_unix_millis,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const T0: u64 = 1_800_000_000_000;
const AT: &str = "SENTINEL-AT-5b1e0c";
const RT: &str = "SENTINEL-RT-9d27fa";
/// Key bytes easy to look for in any output, in every encoding.
const KEY_BYTES: [u8; 32] = *b"SENTINEL-KEY-0123456789abcdefghi";
const OLD_KEY_BYTES: [u8; 32] = *b"SENTINEL-OLDKEY-0123456789abcdef";

fn at(offset_secs: u64) -> SystemTime {
    from_unix_millis(T0 + offset_secs * 1000)
}

fn store_key(id: &str, bytes: [u8; 32]) -> StoreKey {
    StoreKey::new(KeyId::new(id).unwrap(), Zeroizing::new(bytes))
}

fn keyring() -> Keyring {
    Keyring::new(store_key("k1", KEY_BYTES))
}

fn full_set(access: &str, refresh: &str) -> TokenSet {
    let mut set = TokenSet::new(AccessToken::new(access), at(3600))
        .with_token_type(TokenType::new("User Access Token"))
        .with_refresh_token(RefreshToken::new(refresh), Some(at(86_400)))
        .with_scopes(Scopes::from(["scope:read", "scope:write"]))
        .with_issued_at(at(0));
    set.refresh_started = Some(RefreshStarted {
        at: at(5),
        fingerprint: RefreshStarted::fingerprint_of(&RefreshToken::new(refresh)),
        refused_at: None,
    });
    set
}

fn account(name: &str) -> AccountKey {
    AccountKey::new("ebay", name)
}

/// Every way the key bytes could be written out.
fn key_encodings(bytes: &[u8; 32]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    vec![
        String::from_utf8_lossy(bytes).into_owned(),
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
        format!("{bytes:?}"),
    ]
}

fn assert_no_secret(what: &str, text: &str) {
    let mut secrets = vec![AT.to_owned(), RT.to_owned(), "SENTINEL".to_owned()];
    secrets.extend(key_encodings(&KEY_BYTES));
    secrets.extend(key_encodings(&OLD_KEY_BYTES));
    for secret in secrets {
        assert!(
            !text.contains(&secret),
            "{what} shows a secret ({secret:?}):\n{text}"
        );
    }
}

/// The inner store's raw entry.
async fn raw(store: &dyn TokenStore, key: &AccountKey) -> Versioned {
    store.load(key).await.unwrap().expect("stored")
}

fn envelope(entry: &Versioned) -> String {
    entry.tokens.access_token.expose_secret().to_owned()
}

fn decryption_reason(error: &Error) -> &DecryptionFailure {
    match error {
        Error::Decryption { reason, .. } => reason,
        other => panic!("expected a decryption error, got {other:?}"),
    }
}

/// Writes `tokens` as the raw entry of `key`, over whatever is there.
async fn overwrite_raw(store: &dyn TokenStore, key: &AccountKey, tokens: &TokenSet) {
    let expected = store.load(key).await.unwrap().map(|v| v.version);
    let outcome = store.save(key, tokens, expected).await.unwrap();
    assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");
}

// ---------------------------------------------------------------------------
// The store contract, through the layer and without it

/// Compare-and-swap, delete and paging, as every `TokenStore` must behave.
async fn check_store_contract(store: &dyn TokenStore) {
    let a = account("a");
    let set1 = full_set("at-1", "rt-1");
    let set2 = full_set("at-2", "rt-2");
    assert_eq!(store.load(&a).await.unwrap(), None);
    assert_eq!(
        store.save(&a, &set1, None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    match store.save(&a, &set2, None).await.unwrap() {
        SaveOutcome::Conflict {
            current: Some(current),
        } => {
            assert_eq!(current.version, 1);
            assert_eq!(current.tokens, set1);
        }
        other => panic!("{other:?}"),
    }
    match store.save(&a, &set2, Some(7)).await.unwrap() {
        SaveOutcome::Conflict {
            current: Some(current),
        } => assert_eq!(current.tokens, set1),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.save(&a, &set2, Some(1)).await.unwrap(),
        SaveOutcome::Saved { version: 2 }
    );
    assert_eq!(
        store.load(&a).await.unwrap(),
        Some(Versioned {
            tokens: set2.clone(),
            version: 2
        })
    );
    for name in ["c", "b", "d", "e"] {
        store.save(&account(name), &set1, None).await.unwrap();
    }
    store
        .save(&AccountKey::new("aliexpress", "z"), &set1, None)
        .await
        .unwrap();
    assert_eq!(
        store.list_accounts("ebay", None, 3).await.unwrap(),
        ["a", "b", "c"]
    );
    assert_eq!(
        store.list_accounts("ebay", Some("c"), 3).await.unwrap(),
        ["d", "e"]
    );
    assert_eq!(
        store.list_accounts("ebay", None, 0).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.list_accounts("aliexpress", None, 9).await.unwrap(),
        ["z"]
    );
    store.delete(&a).await.unwrap();
    store.delete(&a).await.unwrap();
    assert_eq!(store.load(&a).await.unwrap(), None);
    match store.save(&a, &set1, Some(2)).await.unwrap() {
        SaveOutcome::Conflict { current: None } => {}
        other => panic!("{other:?}"),
    }
    store.check_writable().await.unwrap();
}

#[tokio::test]
async fn the_store_contract_holds_through_the_layer_over_memory_and_file_stores() {
    check_store_contract(&MemoryStore::new()).await;
    check_store_contract(&EncryptedStore::new(MemoryStore::new(), keyring())).await;
    let dir = tempfile::tempdir().unwrap();
    check_store_contract(&FileStore::new(dir.path().join("plain.json"))).await;
    check_store_contract(&EncryptedStore::new(
        FileStore::new(dir.path().join("encrypted.json")),
        keyring(),
    ))
    .await;
}

// ---------------------------------------------------------------------------
// Round trips and what stays in clear

#[tokio::test]
async fn round_trip_over_the_memory_store_keeps_only_an_envelope_inside() {
    let inner = Arc::new(MemoryStore::new());
    let store = EncryptedStore::from_arc(inner.clone(), keyring());
    let key = account("seller-1");
    let tokens = full_set(AT, RT);
    store.save(&key, &tokens, None).await.unwrap();
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(loaded.tokens, tokens);
    assert_eq!(loaded.version, 1);

    let stored = raw(&*inner, &key).await;
    let text = envelope(&stored);
    assert!(text.starts_with("enc:v1:k1:"), "{text}");
    assert!(oauth_core::decode::is_token_text(&text));
    assert!(stored.tokens.refresh_token.is_none());
    assert_no_secret(
        "the inner entry",
        &serde_json::to_string(&stored.tokens).unwrap(),
    );
    assert_eq!(
        store.stored_form(&key).await.unwrap(),
        Some(StoredForm::Encrypted {
            key_id: KeyId::new("k1").unwrap()
        })
    );

    // A fresh nonce per save: the same tokens never give the same envelope.
    store.save(&key, &tokens, Some(1)).await.unwrap();
    let again = raw(&*inner, &key).await;
    assert_ne!(envelope(&again), text);
    assert_eq!(store.load(&key).await.unwrap().unwrap().tokens, tokens);
}

#[tokio::test]
async fn only_the_documented_fields_stay_in_clear() {
    let inner = Arc::new(MemoryStore::new());
    let store = EncryptedStore::from_arc(inner.clone(), keyring());
    let key = account("seller-1");
    store.save(&key, &full_set(AT, RT), None).await.unwrap();
    let stored = raw(&*inner, &key).await;
    let json: serde_json::Value = serde_json::to_value(&stored.tokens).unwrap();
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    // The envelope, and the non-secret copies: access expiry, token type.
    assert_eq!(fields, ["access_token", "expires_at", "token_type"]);
    assert_eq!(json["expires_at"], T0 + 3_600_000);
    assert_eq!(json["token_type"], "User Access Token");
    let envelope = json["access_token"].as_str().unwrap();
    let parts: Vec<&str> = envelope.splitn(4, ':').collect();
    assert_eq!(parts[..3], ["enc", "v1", "k1"]);
    // nonce (24) + JSON of the whole set + tag (16), base64url.
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[3])
        .unwrap();
    assert!(payload.len() > 24 + 16 + AT.len() + RT.len());
    assert!(
        !payload.windows(4).any(|w| w == b"scop"),
        "scopes are encrypted"
    );
}

#[tokio::test]
async fn round_trip_over_the_file_store_reopened_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let key = account("seller-1");
    let tokens = full_set(AT, RT);
    {
        let store = EncryptedStore::new(FileStore::new(&path), keyring());
        store.save(&key, &tokens, None).await.unwrap();
        store
            .save(&AccountKey::new("orangeconnex", "seller-2"), &tokens, None)
            .await
            .unwrap();
    }
    let file = std::fs::read_to_string(&path).unwrap();
    assert_no_secret("the token file", &file);
    assert_eq!(file.matches("enc:v1:k1:").count(), 2, "{file}");

    // Another process: the same file and key.
    let store = EncryptedStore::new(FileStore::new(&path), keyring());
    assert_eq!(store.load(&key).await.unwrap().unwrap().tokens, tokens);
    // The bare file store reads the envelopes (visible ASCII) as tokens.
    let bare = FileStore::new(&path);
    let stored = raw(&bare, &key).await;
    assert!(envelope(&stored).starts_with("enc:v1:"));
    // Without the key, nothing is readable.
    let other = EncryptedStore::new(FileStore::new(&path), Keyring::new(key_k2()));
    let error = other.load(&key).await.unwrap_err();
    assert_eq!(
        decryption_reason(&error),
        &DecryptionFailure::UnknownKey {
            key_id: "k1".into()
        }
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), file, "untouched");
}

fn key_k2() -> StoreKey {
    store_key("k2", OLD_KEY_BYTES)
}

// ---------------------------------------------------------------------------
// Typed failures that leave the entry untouched

#[tokio::test]
async fn a_tampered_ciphertext_is_an_authentication_failure_and_stays_as_it_is() {
    captured_logs(); // swept by the sentinel test
    let inner = Arc::new(MemoryStore::new());
    let store = EncryptedStore::from_arc(inner.clone(), keyring());
    let key = account("seller-1");
    store.save(&key, &full_set(AT, RT), None).await.unwrap();
    let original = raw(&*inner, &key).await;
    let text = envelope(&original);
    // Flip one character of the payload, anywhere.
    let prefix = "enc:v1:k1:".len();
    for position in [prefix, prefix + 20, text.len() / 2, text.len() - 1] {
        let mut bytes = text.clone().into_bytes();
        bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
        let mut tampered = original.tokens.clone();
        tampered.access_token = AccessToken::new(String::from_utf8(bytes).unwrap());
        overwrite_raw(&*inner, &key, &tampered).await;
        let before = raw(&*inner, &key).await;
        let error = store.load(&key).await.unwrap_err();
        assert!(
            matches!(
                decryption_reason(&error),
                DecryptionFailure::Authentication | DecryptionFailure::Malformed
            ),
            "{error:?}"
        );
        assert!(!error.is_retryable() && !error.requires_reauthorization());
        // A save over it is a conflict (or a typed error), never a crash,
        // and nothing was written by the failing load.
        assert_eq!(raw(&*inner, &key).await, before);
        let outcome = store.save(&key, &full_set("x", "y"), Some(0)).await;
        assert!(outcome.is_err(), "{outcome:?}");
        assert_eq!(raw(&*inner, &key).await, before);
    }
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_account_or_provider_does_not_decrypt() {
    let inner = Arc::new(MemoryStore::new());
    let store = EncryptedStore::from_arc(inner.clone(), keyring());
    let (a, b) = (account("seller-a"), account("seller-b"));
    let elsewhere = AccountKey::new("aliexpress", "seller-a");
    store.save(&a, &full_set(AT, RT), None).await.unwrap();
    store
        .save(&b, &full_set("at-b", "rt-b"), None)
        .await
        .unwrap();
    store
        .save(&elsewhere, &full_set("at-c", "rt-c"), None)
        .await
        .unwrap();
    let stolen = raw(&*inner, &a).await.tokens;
    for victim in [&b, &elsewhere] {
        overwrite_raw(&*inner, victim, &stolen).await;
        let before = raw(&*inner, victim).await;
        let error = store.load(victim).await.unwrap_err();
        assert_eq!(
            decryption_reason(&error),
            &DecryptionFailure::Authentication
        );
        assert_eq!(raw(&*inner, victim).await, before);
    }
    // The original still decrypts where it belongs.
    assert_eq!(
        store.load(&a).await.unwrap().unwrap().tokens,
        full_set(AT, RT)
    );
}

#[tokio::test]
async fn a_wrong_key_under_the_same_id_fails_to_authenticate() {
    let inner = Arc::new(MemoryStore::new());
    let key = account("seller-1");
    EncryptedStore::from_arc(inner.clone(), keyring())
        .save(&key, &full_set(AT, RT), None)
        .await
        .unwrap();
    let before = raw(&*inner, &key).await;
    let wrong =
        EncryptedStore::from_arc(inner.clone(), Keyring::new(store_key("k1", OLD_KEY_BYTES)));
    let error = wrong.load(&key).await.unwrap_err();
    assert_eq!(
        decryption_reason(&error),
        &DecryptionFailure::Authentication
    );
    assert_eq!(
        error.to_string(),
        format!(
            "cannot decrypt the stored tokens of ebay/seller-1: {}",
            DecryptionFailure::Authentication
        )
    );
    assert_eq!(raw(&*inner, &key).await, before);
}

#[tokio::test]
async fn an_unknown_key_id_is_named_and_the_entry_stays() {
    captured_logs(); // swept by the sentinel test
    let inner = Arc::new(MemoryStore::new());
    let key = account("seller-1");
    EncryptedStore::from_arc(inner.clone(), Keyring::new(key_k2()))
        .save(&key, &full_set(AT, RT), None)
        .await
        .unwrap();
    let before = raw(&*inner, &key).await;
    let store = EncryptedStore::from_arc(inner.clone(), keyring());
    let error = store.load(&key).await.unwrap_err();
    assert_eq!(
        decryption_reason(&error),
        &DecryptionFailure::UnknownKey {
            key_id: "k2".into()
        }
    );
    assert!(error.to_string().contains("key k2"), "{error}");
    // rekey cannot touch it either, and says so.
    let report = store.rekey(&["ebay"]).await.unwrap();
    assert_eq!(report.failed.len(), 1);
    assert!(!report.is_complete());
    assert_eq!(raw(&*inner, &key).await, before);
    // With the old key added, it reads.
    store.replace_keys(keyring().with_old_key(key_k2()).unwrap());
    assert_eq!(
        store.load(&key).await.unwrap().unwrap().tokens,
        full_set(AT, RT)
    );
}

#[tokio::test]
async fn malformed_envelopes_are_typed_errors() {
    let inner = Arc::new(MemoryStore::new());
    let store = EncryptedStore::from_arc(inner.clone(), keyring());
    let key = account("seller-1");
    store.save(&key, &full_set(AT, RT), None).await.unwrap();
    let good = envelope(&raw(&*inner, &key).await);
    let cases = [
        "enc:v2:k1:AAAA".to_owned(),
        "enc:v1:k1".to_owned(),
        "enc:v1:bad*id:AAAA".to_owned(),
        "enc:v1:k1:!!!not-base64".to_owned(),
        "enc:v1:k1:AAAA".to_owned(),
        good[..good.len() - 30].to_owned(),
    ];
    for case in cases {
        let tokens = TokenSet::new(AccessToken::new(case.clone()), at(1));
        overwrite_raw(&*inner, &key, &tokens).await;
        let error = store.load(&key).await.unwrap_err();
        assert!(
            matches!(
                decryption_reason(&error),
                DecryptionFailure::Malformed | DecryptionFailure::Authentication
            ),
            "{case}: {error:?}"
        );
    }
    // An envelope with a refresh token beside it is not what the layer writes.
    let mut odd = TokenSet::new(AccessToken::new(good), at(1));
    odd.refresh_token = Some(RefreshToken::new("rt"));
    overwrite_raw(&*inner, &key, &odd).await;
    let error = store.load(&key).await.unwrap_err();
    assert_eq!(decryption_reason(&error), &DecryptionFailure::Malformed);
}

// ---------------------------------------------------------------------------
// Plaintext migration

#[tokio::test]
async fn a_plaintext_entry_is_read_and_encrypted_on_its_next_save() {
    let inner = Arc::new(MemoryStore::new());
    let key = account("seller-1");
    inner.save(&key, &full_set(AT, RT), None).await.unwrap();
    let store = EncryptedStore::from_arc(inner.clone(), keyring());
    assert_eq!(
        store.stored_form(&key).await.unwrap(),
        Some(StoredForm::Plaintext)
    );
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(loaded.tokens, full_set(AT, RT));
    store
        .save(&key, &loaded.tokens, Some(loaded.version))
        .await
        .unwrap();
    assert!(envelope(&raw(&*inner, &key).await).starts_with("enc:v1:k1:"));
    assert_eq!(
        store.load(&key).await.unwrap().unwrap().tokens,
        full_set(AT, RT)
    );

    // Refused when asked to.
    let other = account("seller-2");
    inner.save(&other, &full_set(AT, RT), None).await.unwrap();
    let strict = EncryptedStore::from_arc(inner.clone(), keyring()).refuse_plaintext(true);
    let error = strict.load(&other).await.unwrap_err();
    assert_eq!(
        decryption_reason(&error),
        &DecryptionFailure::PlaintextRefused
    );
    assert!(strict.load(&key).await.unwrap().is_some());
}

// ---------------------------------------------------------------------------
// Keys: files, environment, providers

#[test]
fn key_files_are_written_private_never_overwritten_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.key");
    let key = StoreKey::generate(KeyId::new("2026-05").unwrap()).unwrap();
    key.write_new_file(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().any(|l| l.starts_with("2026-05:")), "{text}");
    let error = key.write_new_file(&path).unwrap_err();
    assert!(
        error.to_string().contains("refusing to overwrite"),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    let read = StoreKey::from_file(&path).unwrap();
    assert_eq!(read.id().as_str(), "2026-05");
    assert_eq!(*read.to_key_file_text(), *key.to_key_file_text());
    assert_eq!(
        format!("{read:?}"),
        r#"StoreKey { id: "2026-05", key: "[REDACTED]" }"#
    );
}

#[cfg(unix)]
#[test]
fn a_key_file_others_may_read_is_refused_without_showing_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.key");
    store_key("k1", KEY_BYTES).write_new_file(&path).unwrap();
    for mode in [0o640, 0o604, 0o660, 0o601] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let error = StoreKey::from_file(&path).unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(matches!(error, Error::Configuration { .. }));
        assert!(
            text.contains("chmod 600") && text.contains("store.key"),
            "{text}"
        );
        assert_no_secret("a key file error", &text);
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    StoreKey::from_file(&path).unwrap();
}

#[test]
fn key_texts_in_base64_or_hex_and_bad_ones_refused_without_echo() {
    let b64 = base64::engine::general_purpose::STANDARD.encode(KEY_BYTES);
    let hex: String = KEY_BYTES.iter().map(|b| format!("{b:02x}")).collect();
    let reference = store_key("k1", KEY_BYTES).to_key_file_text();
    for text in [
        format!("k1:{b64}"),
        format!("# comment\n\n  k1:{}  \n", b64.trim_end_matches('=')),
        format!("k1:{hex}"),
        format!("k1:{}", hex.to_uppercase()),
    ] {
        let parsed = StoreKey::parse(&text).unwrap();
        assert_eq!(*parsed.to_key_file_text(), *reference);
    }
    let short = base64::engine::general_purpose::STANDARD.encode(&KEY_BYTES[..31]);
    for bad in [
        String::new(),
        b64.clone(),
        format!("k1:{short}"),
        format!("k1:{b64}\nk2:{b64}"),
        format!("bad id:{b64}"),
        format!("k1:{}", &hex[..63]),
        format!("k1:{b64}x"),
    ] {
        let error = StoreKey::parse(&bad).unwrap_err();
        assert!(matches!(error, Error::Configuration { .. }), "{error:?}");
        assert_no_secret("a key parse error", &format!("{error} {error:?}"));
    }
    assert!(KeyId::new("").is_err());
    assert!(KeyId::new("a:b").is_err());
    assert!(KeyId::new("x".repeat(33)).is_err());
    assert!(KeyId::new("2026-05_rot.1").is_ok());
    let generated = KeyId::generate().unwrap();
    assert!(generated.as_str().starts_with('k') && generated.as_str().len() == 9);
}

/// Environment variables cannot be set safely in a threaded test process:
/// the test re-runs itself with the variable set.
#[test]
fn keys_from_environment_variables() {
    const VAR: &str = "OAUTH_TEST_STORE_KEY_VAR";
    match std::env::var(VAR) {
        Ok(_) => {
            let key = StoreKey::from_env(VAR).unwrap();
            assert_eq!(key.id().as_str(), "env-key");
            assert_eq!(
                *key.to_key_file_text(),
                *key_with_id("env-key").to_key_file_text()
            );
            let keys = oauth_core::lifecycle::EnvKeys::new(VAR).read().unwrap();
            assert_eq!(keys.current_id().as_str(), "env-key");
            let error = StoreKey::from_env("OAUTH_TEST_BAD_STORE_KEY").unwrap_err();
            let text = format!("{error} {error:?}");
            assert!(text.contains("OAUTH_TEST_BAD_STORE_KEY"), "{text}");
            assert_no_secret("an environment key error", &text);
        }
        Err(_) => {
            let error = StoreKey::from_env(VAR).unwrap_err();
            assert!(error.to_string().contains("is not set"), "{error}");
            let b64 = base64::engine::general_purpose::STANDARD.encode(KEY_BYTES);
            let output = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "keys_from_environment_variables", "--nocapture"])
                .env(VAR, format!("env-key:{b64}"))
                .env("OAUTH_TEST_BAD_STORE_KEY", format!("env-key:{b64}AA"))
                .output()
                .unwrap();
            assert!(
                output.status.success()
                    && String::from_utf8_lossy(&output.stdout).contains("1 passed"),
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

fn key_with_id(id: &str) -> StoreKey {
    store_key(id, KEY_BYTES)
}

#[test]
fn keyrings_refuse_two_different_keys_under_one_id() {
    let ring = keyring().with_old_key(key_k2()).unwrap();
    assert_eq!(
        ring.key_ids(),
        [KeyId::new("k1").unwrap(), KeyId::new("k2").unwrap()]
    );
    // The same key twice is harmless.
    let ring = ring.with_old_key(store_key("k1", KEY_BYTES)).unwrap();
    assert_eq!(ring.key_ids().len(), 2);
    let error = ring.with_old_key(store_key("k2", KEY_BYTES)).unwrap_err();
    assert!(error.to_string().contains("id k2"), "{error}");
    assert_eq!(
        format!("{:?}", keyring().with_old_key(key_k2()).unwrap()),
        r#"Keyring { current: "k1", old: ["k2"] }"#
    );
}

#[tokio::test]
async fn key_files_as_a_provider_and_keys_reloaded_live() {
    let dir = tempfile::tempdir().unwrap();
    let (old_path, new_path) = (dir.path().join("old.key"), dir.path().join("new.key"));
    key_k2().write_new_file(&old_path).unwrap();
    store_key("k1", KEY_BYTES)
        .write_new_file(&new_path)
        .unwrap();
    let inner = Arc::new(MemoryStore::new());
    let store = EncryptedStore::with_key_provider(inner.clone(), &KeyFiles::new(&old_path))
        .await
        .unwrap();
    let key = account("seller-1");
    store.save(&key, &full_set(AT, RT), None).await.unwrap();
    let provider = KeyFiles::new(&new_path).with_old(&old_path);
    store.reload_keys(&provider).await.unwrap();
    assert_eq!(store.keyring().current_id().as_str(), "k1");
    assert_eq!(
        store.load(&key).await.unwrap().unwrap().tokens,
        full_set(AT, RT)
    );
    assert_eq!(
        store.rekey_account(&key).await.unwrap(),
        RekeyOutcome::Rekeyed {
            from: Some(KeyId::new("k2").unwrap())
        }
    );
    assert_eq!(
        store.rekey_account(&key).await.unwrap(),
        RekeyOutcome::AlreadyCurrent
    );
    assert_eq!(
        store.rekey_account(&account("nobody")).await.unwrap(),
        RekeyOutcome::Missing
    );
    // A provider that fails leaves the keys in use.
    let error = store
        .reload_keys(&KeyFiles::new(dir.path().join("missing.key")))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Configuration { .. }));
    assert_eq!(store.keyring().current_id().as_str(), "k1");
    assert_eq!(
        provider.keyring().await.unwrap().key_ids().len(),
        2,
        "KeyFiles reads both files"
    );
}

// ---------------------------------------------------------------------------
// Rotation and rekey

#[tokio::test]
async fn old_keys_read_and_the_next_save_re_encrypts_under_the_current_key() {
    let inner = Arc::new(MemoryStore::new());
    let key = account("seller-1");
    EncryptedStore::from_arc(inner.clone(), Keyring::new(key_k2()))
        .save(&key, &full_set(AT, RT), None)
        .await
        .unwrap();
    let store = EncryptedStore::from_arc(inner.clone(), keyring().with_old_key(key_k2()).unwrap());
    let loaded = store.load(&key).await.unwrap().unwrap();
    assert_eq!(
        store.stored_form(&key).await.unwrap(),
        Some(StoredForm::Encrypted {
            key_id: KeyId::new("k2").unwrap()
        })
    );
    store
        .save(&key, &loaded.tokens, Some(loaded.version))
        .await
        .unwrap();
    assert_eq!(
        store.stored_form(&key).await.unwrap(),
        Some(StoredForm::Encrypted {
            key_id: KeyId::new("k1").unwrap()
        })
    );
}

#[tokio::test]
async fn rekey_covers_every_provider_plaintext_and_old_entries() {
    let inner = Arc::new(MemoryStore::new());
    let old = EncryptedStore::from_arc(inner.clone(), Keyring::new(key_k2()));
    let providers = ["ebay", "aliexpress", "orangeconnex", "eshopbox"];
    let mut expected = HashMap::new();
    for (p, provider) in providers.iter().enumerate() {
        for n in 0..5 {
            let key = AccountKey::new(*provider, format!("seller-{n}"));
            let tokens = full_set(&format!("at-{p}-{n}"), &format!("rt-{p}-{n}"));
            if n == 0 {
                inner.save(&key, &tokens, None).await.unwrap(); // in clear
            } else {
                old.save(&key, &tokens, None).await.unwrap();
            }
            expected.insert(key, tokens);
        }
    }
    let store = EncryptedStore::from_arc(inner.clone(), keyring().with_old_key(key_k2()).unwrap());
    // One already current.
    let current = AccountKey::new("ebay", "seller-1");
    store
        .save(&current, &expected[&current], Some(1))
        .await
        .unwrap();

    let report = store.rekey(&providers).await.unwrap();
    assert_eq!(report.accounts, 20);
    assert_eq!(report.rekeyed, 19);
    assert_eq!(report.from_plaintext, 4);
    assert_eq!(report.already_current, 1);
    assert!(report.is_complete(), "{report:?}");
    for (key, tokens) in &expected {
        assert_eq!(
            store.stored_form(key).await.unwrap(),
            Some(StoredForm::Encrypted {
                key_id: KeyId::new("k1").unwrap()
            })
        );
        assert_eq!(&store.load(key).await.unwrap().unwrap().tokens, tokens);
    }
    // Without the old key now: everything still reads.
    let only_new = EncryptedStore::from_arc(inner.clone(), keyring()).refuse_plaintext(true);
    for (key, tokens) in &expected {
        assert_eq!(&only_new.load(key).await.unwrap().unwrap().tokens, tokens);
    }
    let again = store.rekey(&providers).await.unwrap();
    assert_eq!((again.rekeyed, again.already_current), (0, 20));
}

/// An inner store where another writer (a refreshing manager) saves new
/// tokens right after the first `armed` loads: rekey's compare-and-swap
/// must lose, read again and keep the newer tokens.
#[derive(Debug)]
struct Racing {
    inner: Arc<MemoryStore>,
    writer: Mutex<Option<(EncryptedStore<MemoryStore>, TokenSet)>>,
    armed: AtomicUsize,
}

#[async_trait]
impl TokenStore for Racing {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        let loaded = self.inner.load(key).await?;
        if self.armed.fetch_sub(1, Ordering::SeqCst) == 1 {
            let writer = self.writer.lock().unwrap().take();
            if let Some((writer, tokens)) = writer {
                let version = loaded.as_ref().map(|v| v.version);
                assert!(matches!(
                    writer.save(key, &tokens, version).await?,
                    SaveOutcome::Saved { .. }
                ));
            }
        }
        Ok(loaded)
    }
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        self.inner.save(key, tokens, expected).await
    }
    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.inner.delete(key).await
    }
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.inner.list_accounts(provider, after, limit).await
    }
}

#[tokio::test]
async fn rekey_never_overwrites_a_refresh_saved_in_between() {
    let memory = Arc::new(MemoryStore::new());
    let key = account("seller-1");
    EncryptedStore::from_arc(memory.clone(), Keyring::new(key_k2()))
        .save(&key, &full_set("at-old", "rt-old"), None)
        .await
        .unwrap();
    // The concurrent writer is an old process still writing under k2: the
    // rekey must re-read and re-encrypt its newer tokens, not the old ones.
    let writer = EncryptedStore::from_arc(memory.clone(), Keyring::new(key_k2()));
    let racing = Racing {
        inner: memory.clone(),
        writer: Mutex::new(Some((writer, full_set("at-new", "rt-new")))),
        armed: AtomicUsize::new(1),
    };
    let store = EncryptedStore::new(racing, keyring().with_old_key(key_k2()).unwrap());
    assert_eq!(
        store.rekey_account(&key).await.unwrap(),
        RekeyOutcome::Rekeyed {
            from: Some(KeyId::new("k2").unwrap())
        }
    );
    let stored = store.load(&key).await.unwrap().unwrap();
    assert_eq!(stored.tokens, full_set("at-new", "rt-new"));
    assert_eq!(stored.version, 3, "writer's save, then the rekey's");
    assert_eq!(
        store.stored_form(&key).await.unwrap(),
        Some(StoredForm::Encrypted {
            key_id: KeyId::new("k1").unwrap()
        })
    );
}

/// A rotating provider: every refresh token works once; presenting a spent
/// one is `invalid_grant` (which would mean a lost token).
#[derive(Debug, Default)]
struct Rotating {
    latest: Mutex<HashMap<String, (usize, String)>>,
    refused: AtomicUsize,
}

impl Rotating {
    fn issue(&self, account: &str, n: usize) -> TokenSet {
        let refresh = format!("rt.{account}.{n}");
        self.latest
            .lock()
            .unwrap()
            .insert(account.to_owned(), (n, refresh.clone()));
        TokenSet::new(
            AccessToken::new(format!("at.{account}.{n}")),
            SystemTime::now() + Duration::from_secs(3600),
        )
        .with_refresh_token(RefreshToken::new(refresh), None)
    }
}

#[async_trait]
impl RefreshGrant for Rotating {
    fn provider(&self) -> &'static str {
        "rotating"
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let presented = current
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned())
            .unwrap_or_default();
        let account = presented.split('.').nth(1).unwrap_or_default().to_owned();
        let n = {
            let latest = self.latest.lock().unwrap();
            match latest.get(&account) {
                Some((n, token)) if *token == presented => *n,
                _ => {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                    return Err(Error::ReauthorizationRequired {
                        details: ProviderDetails::new("rotating").with_code("invalid_grant"),
                    });
                }
            }
        };
        tokio::task::yield_now().await;
        Ok(self.issue(&account, n + 1))
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }
}

/// A memory store that yields inside every operation, so that concurrent
/// tasks interleave between a load and the save that follows it.
#[derive(Debug, Default)]
struct Yielding(MemoryStore);

#[async_trait]
impl TokenStore for Yielding {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        tokio::task::yield_now().await;
        self.0.load(key).await
    }
    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        tokio::task::yield_now().await;
        let outcome = self.0.save(key, tokens, expected).await;
        tokio::task::yield_now().await;
        outcome
    }
    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        self.0.delete(key).await
    }
    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        self.0.list_accounts(provider, after, limit).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_under_concurrent_rotating_refreshes_loses_no_token() {
    captured_logs(); // swept by the sentinel test
    const ACCOUNTS: usize = 24;
    const REFRESHES: usize = 25;
    let inner = Arc::new(Yielding::default());
    let grant = Arc::new(Rotating::default());
    // Installed under the old key.
    let old = EncryptedStore::from_arc(inner.clone(), Keyring::new(key_k2()));
    for a in 0..ACCOUNTS {
        let name = format!("s{a}");
        old.save(
            &AccountKey::new("rotating", &name),
            &grant.issue(&name, 0),
            None,
        )
        .await
        .unwrap();
    }
    // Every process now has the new keyring (k1 current, k2 for reading).
    let store = Arc::new(EncryptedStore::from_arc(
        inner.clone(),
        keyring().with_old_key(key_k2()).unwrap(),
    ));
    let mut tasks = Vec::new();
    for a in 0..ACCOUNTS {
        let manager = TokenManager::builder(grant.clone(), store.clone(), format!("s{a}")).build();
        tasks.push(tokio::spawn(async move {
            for _ in 0..REFRESHES {
                manager.force_refresh().await.unwrap();
            }
        }));
    }
    let mut rekeyed = 0;
    let mut rounds = 0;
    loop {
        let report = store.rekey(&["rotating"]).await.unwrap();
        assert!(report.is_complete(), "{report:?}");
        rekeyed += report.rekeyed;
        rounds += 1;
        if tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        tokio::task::yield_now().await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    let report = store.rekey(&["rotating"]).await.unwrap();
    assert_eq!(report.rekeyed, 0, "{report:?}");
    assert_eq!(
        grant.refused.load(Ordering::SeqCst),
        0,
        "a spent token was used"
    );
    let latest = grant.latest.lock().unwrap().clone();
    for a in 0..ACCOUNTS {
        let name = format!("s{a}");
        let key = AccountKey::new("rotating", &name);
        let stored = store.load(&key).await.unwrap().unwrap();
        let (n, refresh) = &latest[&name];
        assert_eq!(*n, REFRESHES, "{name}");
        assert_eq!(
            stored.tokens.refresh_token,
            Some(RefreshToken::new(refresh.clone()))
        );
        assert_eq!(
            store.stored_form(&key).await.unwrap(),
            Some(StoredForm::Encrypted {
                key_id: KeyId::new("k1").unwrap()
            })
        );
    }
    // The rekey ran while the refreshes did (typically it re-encrypts ~22
    // entries over a few thousand rounds; the managers' saves do the rest).
    assert!(
        rekeyed > 0 && rounds > 1,
        "rekeyed {rekeyed} in {rounds} rounds"
    );
}

// ---------------------------------------------------------------------------
// A real TokenManager over the layer, and the sentinel sweep

/// Issues sentinel tokens.
#[derive(Debug, Default)]
struct Sentinels(AtomicUsize);

#[async_trait]
impl RefreshGrant for Sentinels {
    fn provider(&self) -> &'static str {
        "ebay"
    }

    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, Error> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(TokenSet::new(
            AccessToken::new(format!("{AT}-{n}")),
            SystemTime::now() + Duration::from_secs(3600),
        )
        .with_refresh_token(RefreshToken::new(format!("{RT}-{n}")), None)
        .merge_previous(current))
    }

    fn rotates_refresh_token(&self) -> bool {
        true
    }
}

/// A `MakeWriter` appending every log line to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, at TRACE, from the first call on: a
/// global subscriber (a thread-local one misses the events of callsites
/// first hit by other tests running in parallel).
fn captured_logs() -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        captured
    })
}

#[tokio::test]
async fn a_token_manager_over_the_encrypted_file_store_and_no_secret_in_any_output() {
    let captured = captured_logs();
    let mut shown = Vec::new();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let key_path = dir.path().join("store.key");
    let old_path = dir.path().join("old.key");
    store_key("k1", KEY_BYTES)
        .write_new_file(&key_path)
        .unwrap();
    key_k2().write_new_file(&old_path).unwrap();
    let files = KeyFiles::new(&old_path);
    let store = Arc::new(
        EncryptedStore::with_key_provider(Arc::new(FileStore::new(&path)), &files)
            .await
            .unwrap(),
    );
    let grant = Arc::new(Sentinels::default());
    let manager = TokenManager::builder(grant.clone(), store.clone(), "seller-1").build();
    manager.install(full_set(AT, RT)).await.unwrap();
    assert_eq!(manager.access_token().await.unwrap().expose_secret(), AT);
    let refreshed = manager.force_refresh().await.unwrap();
    assert_eq!(refreshed.expose_secret(), format!("{AT}-1"));

    // Rotate: new key current, old kept; rekey; refresh again.
    store
        .reload_keys(&KeyFiles::new(&key_path).with_old(&old_path))
        .await
        .unwrap();
    let report = store.rekey(&["ebay"]).await.unwrap();
    assert_eq!(report.rekeyed, 1);
    shown.push(format!("{report:?}"));
    manager.force_refresh().await.unwrap();

    // A restart: a new manager reads the stored, encrypted tokens.
    let restarted = TokenManager::builder(grant.clone(), store.clone(), "seller-1").build();
    assert_eq!(
        restarted.access_token().await.unwrap().expose_secret(),
        format!("{AT}-2")
    );
    let file = std::fs::read_to_string(&path).unwrap();
    shown.push(file.clone());
    assert!(file.contains("enc:v1:k1:"));

    // Failures, each shown every way.
    let inner: Arc<dyn TokenStore> = store.inner().clone();
    let key = account("seller-1");
    let moved = AccountKey::new("ebay", "seller-2");
    overwrite_raw(&*inner, &moved, &raw(&*inner, &key).await.tokens).await;
    let mut errors = vec![store.load(&moved).await.unwrap_err()];
    let unknown = EncryptedStore::from_arc(inner.clone(), Keyring::new(key_k2()));
    errors.push(unknown.load(&key).await.unwrap_err());
    let wrong =
        EncryptedStore::from_arc(inner.clone(), Keyring::new(store_key("k1", OLD_KEY_BYTES)));
    errors.push(wrong.load(&key).await.unwrap_err());
    let failing = TokenManager::builder(grant.clone(), Arc::new(wrong), "seller-1").build();
    errors.push(failing.access_token().await.unwrap_err());
    errors.push(
        unknown
            .rekey(&["ebay"])
            .await
            .map(|r| r.failed[0].error.clone())
            .unwrap(),
    );
    std::fs::set_permissions(
        &key_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    errors.push(StoreKey::from_file(&key_path).unwrap_err());
    errors.push(StoreKey::parse(&format!("k1:{}x", "A".repeat(43))).unwrap_err());
    for error in &errors {
        shown.push(format!("{error} | {error:?} | {error:#?}"));
    }
    shown.push(format!("{store:?} {store:#?}"));
    shown.push(format!("{:?}", store.keyring()));
    shown.push(format!("{:?} {:?}", store_key("k1", KEY_BYTES), key_k2()));
    shown.push(format!("{files:?} {manager:?}"));
    shown.push(format!("{:?}", store.load(&key).await.unwrap()));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("cannot decrypt a stored entry"), "{logs}");
    assert!(logs.contains("token store rekeyed"), "{logs}");
    shown.push(logs);
    for (n, text) in shown.iter().enumerate() {
        assert_no_secret(&format!("output #{n}"), text);
    }
}

// ---------------------------------------------------------------------------
// Property tests

fn token_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(0x21_u8..=0x7e, 1..300)
        .prop_map(|bytes| String::from_utf8(bytes).unwrap())
}

fn account_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..40).prop_map(|c| c.into_iter().collect())
}

prop_compose! {
    fn token_set()(
        access in token_text(),
        refresh in proptest::option::of(token_text()),
        expires in 0_u64..4_000_000_000_000,
        refresh_expires in proptest::option::of(0_u64..4_000_000_000_000),
        scopes in proptest::collection::vec("[a-z:./]{1,20}", 0..5),
        issued in proptest::option::of(0_u64..4_000_000_000_000),
        token_type in "[A-Za-z ]{1,25}",
    ) -> TokenSet {
        let mut set = TokenSet::new(AccessToken::new(access), from_unix_millis(expires))
            .with_token_type(TokenType::new(token_type))
            .with_scopes(scopes.into_iter().collect::<Vec<_>>().iter().map(|s| oauth_core::Scope::new(s.clone())).collect());
        if let Some(refresh) = refresh {
            set = set.with_refresh_token(RefreshToken::new(refresh), refresh_expires.map(from_unix_millis));
        }
        if let Some(issued) = issued {
            set = set.with_issued_at(from_unix_millis(issued));
        }
        set
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_entry_round_trips_and_binds_to_its_account(
        tokens in token_set(),
        provider in "[a-z]{1,12}",
        account in account_text(),
        other in account_text(),
        flip in any::<usize>(),
    ) {
        runtime().block_on(async {
            let inner = Arc::new(MemoryStore::new());
            let store = EncryptedStore::from_arc(inner.clone(), keyring());
            let key = AccountKey::new(provider.clone(), &account);
            store.save(&key, &tokens, None).await.unwrap();
            let loaded = store.load(&key).await.unwrap().unwrap();
            prop_assert_eq!(&loaded.tokens, &tokens);
            let stored = raw(&*inner, &key).await;
            let text = envelope(&stored);
            prop_assert!(oauth_core::decode::is_token_text(&text));
            prop_assert!(stored.tokens.refresh_token.is_none());
            // The envelope survives the file store's serialization.
            let json = serde_json::to_string(&stored.tokens).unwrap();
            let back: TokenSet = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &stored.tokens);

            // Moved to another account: refused.
            if other != account {
                let moved = AccountKey::new(provider.clone(), &other);
                inner.save(&moved, &stored.tokens, None).await.unwrap();
                let error = store.load(&moved).await.unwrap_err();
                prop_assert_eq!(decryption_reason(&error), &DecryptionFailure::Authentication);
            }
            // Any changed payload character: refused.
            let prefix = "enc:v1:k1:".len();
            let position = prefix + flip % (text.len() - prefix);
            let mut bytes = text.clone().into_bytes();
            bytes[position] = if bytes[position] == b'A' { b'B' } else { b'A' };
            let mut tampered = stored.tokens.clone();
            tampered.access_token = AccessToken::new(String::from_utf8(bytes).unwrap());
            inner.save(&key, &tampered, Some(1)).await.unwrap();
            prop_assert!(store.load(&key).await.is_err());
            Ok(())
        })?;
    }
}
