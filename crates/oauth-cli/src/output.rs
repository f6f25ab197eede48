//! Output: plain-text tables and lines, JSON, timestamps.
//!
//! Everything a command prints goes through here. Nothing reaches the terminal raw:
//! [`out`] and [`err`] escape control characters (and bidirectional-text overrides)
//! whatever their source, and the one secret printed on purpose, the access token of
//! `token`, goes through [`checked_token`], which refuses anything but visible ASCII.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime};

use oauth_core::{TokenSet, to_unix_millis};
use serde_json::{Value, json};

use crate::error::CliError;

/// The colour sequences this module writes itself; [`out_styled`] keeps them.
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

/// Whether `c` must not reach a terminal as is: a control character other than
/// newline and tab (C0, DEL, C1), or a bidirectional-text control that can make a line
/// read differently from what it holds.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character (see [`is_unsafe`]) written as `\uXXXX`: visible
/// on a terminal, and still the same character inside a JSON string. With
/// `keep_styles`, this module's own colour sequences are kept.
fn sanitize_with(text: &str, keep_styles: bool) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut clean = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while !rest.is_empty() {
        if keep_styles
            && let Some((style, after)) = [GREEN, RED, RESET]
                .into_iter()
                .find_map(|style| rest.strip_prefix(style).map(|after| (style, after)))
        {
            clean.push_str(style);
            rest = after;
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        if is_unsafe(c) {
            let _ = write!(clean, "\\u{:04x}", u32::from(c));
        } else {
            clean.push(c);
        }
        rest = chars.as_str();
    }
    Cow::Owned(clean)
}

/// `text` safe to print: control characters and bidirectional overrides escaped.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    sanitize_with(text, false)
}

/// Writes `text` (sanitized) and a newline to stdout. A closed stdout
/// (`oauth ... | head`) is not an error worth a panic: the write is dropped.
pub fn out(text: &str) {
    write_out(&sanitize(text));
}

/// [`out`] for text that carries this module's colours ([`green`], [`red`]): those are
/// kept, every other control character is escaped.
pub fn out_styled(text: &str) {
    write_out(&sanitize_with(text, true));
}

fn write_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// Writes `text` (sanitized) and a newline to stderr.
pub fn err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", sanitize(text));
}

/// The access token `token` may print: only when every character is visible ASCII
/// (`0x21..=0x7E`), terminal or not. Anything else (a control character that would
/// drive the terminal, a space, non-ASCII) is refused without showing the token: no
/// provider issues such a token, so the response or the token file was tampered with.
///
/// # Errors
/// A failure (exit code 1) that does not contain the token.
pub fn checked_token(token: &str) -> Result<&str, CliError> {
    if !token.is_empty() && token.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Ok(token);
    }
    Err(CliError::new(
        "unsafe_token",
        crate::error::EXIT_FAILURE,
        "refusing to print the access token: it is empty or contains characters outside \
         visible ASCII (control characters, spaces or non-ASCII), which no provider issues",
    )
    .with_hint(
        "the token file or the provider's response may have been tampered with: inspect the \
         token file, then refresh or authorize again",
    ))
}

/// Writes `value` to stdout as pretty JSON.
pub fn json_out(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => out(&text),
        Err(_) => err("oauth: cannot serialize the JSON output"),
    }
}

/// `time` as an RFC 3339 UTC timestamp with second precision (`2025-06-01T12:00:00Z`).
pub fn utc(time: SystemTime) -> String {
    oauth_core::to_rfc3339(time)
}

/// Seconds from `now` until `time` (negative when it has passed).
pub fn secs_until(time: SystemTime, now: SystemTime) -> i64 {
    match time.duration_since(now) {
        Ok(left) => i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
        Err(past) => -i64::try_from(past.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// "in 2h 0m 5s" / "3m 2s ago" for a human.
pub fn relative(time: SystemTime, now: SystemTime) -> String {
    let secs = secs_until(time, now);
    let text = human_duration(Duration::from_secs(secs.unsigned_abs()));
    if secs >= 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// `1d 2h 3m 4s`, leaving out leading zero units.
pub fn human_duration(duration: Duration) -> String {
    let total = duration.as_secs();
    let (d, h, m, s) = (
        total / 86_400,
        (total % 86_400) / 3600,
        (total % 3600) / 60,
        total % 60,
    );
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// A duration in milliseconds with one decimal (`12.3`).
pub fn millis(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

/// What a token set holds, without any secret: expiries, type, scopes.
pub fn token_summary_json(tokens: &TokenSet, now: SystemTime) -> Value {
    json!({
        "token_type": tokens.token_type.as_str(),
        "expires_at": utc(tokens.expires_at),
        "expires_at_unix_ms": to_unix_millis(tokens.expires_at),
        "expires_in_secs": secs_until(tokens.expires_at, now),
        "has_refresh_token": tokens.refresh_token.is_some(),
        "refresh_token_expires_at": tokens.refresh_token_expires_at.map(utc),
        "scopes": tokens.scopes.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>(),
    })
}

/// The same as lines for a human.
pub fn token_summary_lines(tokens: &TokenSet, now: SystemTime) -> Vec<String> {
    let mut lines = vec![format!(
        "access token:  {}, expires {} ({})",
        tokens.token_type.as_str(),
        utc(tokens.expires_at),
        relative(tokens.expires_at, now)
    )];
    lines.push(
        match (&tokens.refresh_token, tokens.refresh_token_expires_at) {
            (Some(_), Some(at)) => format!(
                "refresh token: present, expires {} ({})",
                utc(at),
                relative(at, now)
            ),
            (Some(_), None) => "refresh token: present, expiry unknown".to_owned(),
            (None, _) => {
                "refresh token: none (authorize again when the access token expires)".to_owned()
            }
        },
    );
    let scopes = tokens.scopes.join(" ");
    lines.push(format!(
        "scopes:        {}",
        if scopes.is_empty() {
            "(none recorded)"
        } else {
            &scopes
        }
    ));
    lines
}

/// Whether to colour stdout: a terminal, and `NO_COLOR` unset.
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// `text` in green (ANSI) when `colour`, as is otherwise.
pub fn green(text: &str, colour: bool) -> String {
    if colour {
        format!("{GREEN}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// `text` in red (ANSI) when `colour`, as is otherwise.
pub fn red(text: &str, colour: bool) -> String {
    if colour {
        format!("{RED}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// A plain-text table: a header line, a rule, one line per row; columns padded to their
/// widest cell (counted in characters), separated by two spaces. Trailing spaces are
/// trimmed.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let columns = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut text = String::new();
        for (i, (cell, width)) in cells.zip(&widths).enumerate() {
            text.push_str(cell);
            if i + 1 < columns {
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.trim_end().to_owned()
    };
    let mut text = line(&mut headers.iter().copied());
    text.push('\n');
    let total: usize = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
    text.extend(std::iter::repeat_n('-', total));
    for row in rows {
        text.push('\n');
        text.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::{AccessToken, RefreshToken, Scopes, from_unix_millis};

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(5)), "5s");
        assert_eq!(human_duration(Duration::from_secs(7200)), "2h 0m 0s");
        assert_eq!(human_duration(Duration::from_secs(90_061)), "1d 1h 1m");
        let now = from_unix_millis(10_000);
        assert_eq!(relative(from_unix_millis(70_000), now), "in 1m 0s");
        assert_eq!(relative(from_unix_millis(5_000), now), "5s ago");
        assert_eq!(millis(Duration::from_micros(12_345)), "12.3");
    }

    #[test]
    fn table_pads_columns() {
        let text = table(
            &["a", "bb", "c"],
            &[
                vec!["xxx".into(), "y".into(), "z".into()],
                vec!["é".into(), "".into(), "zz".into()],
            ],
        );
        assert_eq!(text, "a    bb  c\n-----------\nxxx  y   z\né        zz");
    }

    #[test]
    fn only_visible_ascii_tokens_are_printed() {
        for good in [
            "v^1.1#i^1#p^3#r^1#f^0#I^3#t^Ul4xMF8z",
            "a",
            "50000100a3B~_-.+/=",
        ] {
            assert_eq!(checked_token(good).ok(), Some(good));
        }
        for bad in [
            "SENTINEL\u{1b}]0;title\u{7}",
            "SENTINEL\u{1b}[2J",
            "SENTINEL\r\ncurl evil",
            "SENTINEL with space",
            "SENTINEL\ttab",
            "SENTINEL\u{7f}",
            "SENTINEL\u{9b}31m",
            "SENTINEL\u{202e}txt",
            "SENTINEL\u{e9}",
            "",
        ] {
            let error = checked_token(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(error.code(), crate::error::EXIT_FAILURE);
            assert_eq!(error.kind(), "unsafe_token");
            let text = format!("{error} {error:?} {}", error.to_json());
            assert!(!text.contains("SENTINEL"), "{text}");
            assert!(
                text.starts_with("refusing to print the access token"),
                "{text}"
            );
        }
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(sanitize("plain\ntext\twith tabs"), "plain\ntext\twith tabs");
        assert!(matches!(sanitize("plain"), Cow::Borrowed(_)));
        assert_eq!(
            sanitize("a\u{1b}[2Jb\rc\u{7}d\u{0}e\u{7f}f\u{9b}g\u{202e}h\u{2066}i"),
            "a\\u001b[2Jb\\u000dc\\u0007d\\u0000e\\u007ff\\u009bg\\u202eh\\u2066i"
        );
        // Our own colours survive where asked for; nothing else does.
        let styled = format!("{} {}", green("OK", true), red("FAILED", true));
        assert_eq!(sanitize_with(&styled, true), styled);
        assert_eq!(
            sanitize_with("\u{1b}[32mOK\u{1b}[0m \u{1b}[1;31mX\u{1b}]0;t\u{7}", true),
            "\u{1b}[32mOK\u{1b}[0m \\u001b[1;31mX\\u001b]0;t\\u0007"
        );
        assert!(!sanitize(&styled).contains('\u{1b}'));
        // Inside JSON text the escape is the same character again.
        let value = json!({ "message": "x\u{85}y\u{202e}z\u{1b}" });
        let text = serde_json::to_string(&value).unwrap_or_default();
        let clean = sanitize(&text);
        assert!(
            !clean.contains('\u{85}') && !clean.contains('\u{202e}'),
            "{clean}"
        );
        let back: Value = serde_json::from_str(&clean).unwrap_or_default();
        assert_eq!(back, value);
    }

    #[test]
    fn summaries_hold_no_secret() {
        let tokens = TokenSet::new(AccessToken::new("SENTINEL-AT"), from_unix_millis(70_000))
            .with_refresh_token(
                RefreshToken::new("SENTINEL-RT"),
                Some(from_unix_millis(170_000)),
            )
            .with_scopes(Scopes::from(["s1", "s2"]));
        let now = from_unix_millis(10_000);
        let json = token_summary_json(&tokens, now).to_string();
        let lines = token_summary_lines(&tokens, now).join("\n");
        for text in [&json, &lines] {
            assert!(!text.contains("SENTINEL"), "{text}");
        }
        assert!(json.contains(r#""expires_in_secs":60"#), "{json}");
        assert!(json.contains(r#""scopes":["s1","s2"]"#), "{json}");
        assert!(lines.contains("scopes:        s1 s2"), "{lines}");
        assert!(lines.contains("expires 1970-01-01T00:02:50Z"), "{lines}");
    }
}
