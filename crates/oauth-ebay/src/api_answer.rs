//! How eBay's answers to API calls (not to the token endpoint) are
//! classified, for [`Provider::api_answer_needs_body`](oauth_core::Provider::api_answer_needs_body)
//! and [`Provider::classify_api_response`](oauth_core::Provider::classify_api_response)
//! (the table is in the [crate documentation](crate#errors-of-api-calls)).
//!
//! - REST APIs answer a refused access token with **401** and eBay's error
//!   shape, `{"errors":[{"errorId":1001,"domain":"OAuth","message":"Invalid
//!   access token",..}]}`; a token that lacks a scope, or a user who may not
//!   do something, is a **403** (`errorId` 1100, "Access denied" /
//!   "Insufficient permissions to fulfill the request."), which a refresh
//!   does not fix.
//! - The Trading (XML) API answers **HTTP 200** with `<Ack>Failure</Ack>`
//!   and `<Errors><ErrorCode>..</ErrorCode></Errors>`: codes 21916984
//!   ("Invalid IAF token"), 21917053 (IAF token expired), 931 ("Auth token
//!   is invalid") and 932 ("Auth token is hard expired") mean the token was
//!   refused ([`TOKEN_REJECTED_CODES`]). So a 2xx with an XML content type
//!   is read too.
//!
//! The XML is not parsed by an XML library: a bounded scan of the first
//! [`XML_SCAN_LIMIT`] bytes for the `Ack`, `CorrelationID` and `Errors`
//! elements, total over any bytes.

use crate::PROVIDER;
use crate::error::rest_error_details;
use oauth_core::http_types::{HeaderMap, header};
use oauth_core::transport::classify::status_error;
use oauth_core::{Error, ProviderDetails, RawResponse, TransientCause};

/// Trading API error codes that mean the access token was refused:
/// refresh it and retry once. 21916984 "Invalid IAF token" and 21917053
/// (IAF token expired) are the OAuth token's (`X-EBAY-API-IAF-TOKEN`);
/// 931 "Auth token is invalid" (eBay knowledge base article 630) and 932
/// "Auth token is hard expired" are the token codes of the XML APIs in
/// general. 930 (a token is required) is not here: a call sent without a
/// token is not fixed by a refresh.
pub const TOKEN_REJECTED_CODES: &[&str] = &["21916984", "21917053", "931", "932"];

/// How much of an XML body is scanned: `Ack` and `Errors` come first in
/// eBay's answers, and error answers are small.
pub const XML_SCAN_LIMIT: usize = 64 * 1024;

/// At most this many `Errors` elements are read.
const MAX_XML_ERRORS: usize = 32;

/// Whether `content_type` is XML (`text/xml`, `application/xml`,
/// `application/soap+xml`, with parameters or not; any case).
fn is_xml(content_type: &str) -> bool {
    let essence = oauth_core::transport::classify::media_type(content_type);
    essence == "text/xml" || essence == "application/xml" || essence.ends_with("+xml")
}

/// Reads the status and `Content-Type` only: a 401 (REST), or a 2xx with
/// an XML content type (the Trading API reports a refused token in a 200).
pub(crate) fn needs_body(status: u16, headers: &HeaderMap) -> bool {
    match status {
        401 => true,
        200..=299 => headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_xml),
        _ => false,
    }
}

/// Classifies an API call's answer (see the [module documentation](self)).
pub(crate) fn classify(response: &RawResponse) -> Result<(), Error> {
    if response.is_success() {
        if response.content_type().is_some_and(is_xml) || looks_like_xml(response.body()) {
            return trading_answer(response);
        }
        return Ok(());
    }
    let details = rest_error_details(response).unwrap_or_else(|| {
        let details = ProviderDetails::new(PROVIDER).with_status(response.status());
        match trading_errors(response.body()) {
            Some(answer) => answer.details(details),
            None => details.with_message(response.excerpt()),
        }
    });
    if response.status() == 401 {
        return Err(Error::AccessTokenRejected { details });
    }
    Err(status_error(response, details.clone()).unwrap_or(Error::Provider { details }))
}

/// Whether the body starts (after whitespace and a byte-order mark) like
/// an XML document.
fn looks_like_xml(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// A 2xx Trading API answer: `Ok` unless `Ack` is `Failure`. A
/// `PartialFailure` is `Ok` (part of the call was applied: resending it
/// could apply that part twice, so it is never a rejected token, even with
/// a token error among its errors; the caller reads the answer).
fn trading_answer(response: &RawResponse) -> Result<(), Error> {
    let Some(answer) = trading_errors(response.body()) else {
        return Ok(());
    };
    if answer.ack.as_deref() != Some("Failure") {
        return Ok(());
    }
    let details = ProviderDetails::new(PROVIDER).with_status(response.status());
    if let Some(rejected) = answer
        .errors
        .iter()
        .find(|e| e.is_error() && e.rejects_token())
    {
        return Err(Error::AccessTokenRejected {
            details: rejected.details(details, answer.correlation_id.as_deref()),
        });
    }
    let first = answer
        .errors
        .iter()
        .find(|e| e.is_error())
        .or(answer.errors.first());
    let system = first.is_some_and(|e| e.classification.as_deref() == Some("SystemError"));
    let details = answer.details(details);
    if system {
        return Err(Error::Transient {
            cause: TransientCause::ServerError,
            retry_after: response.retry_after(),
            details,
        });
    }
    Err(Error::Provider { details })
}

/// What a Trading API answer says about itself.
#[derive(Debug, Default)]
struct TradingAnswer {
    ack: Option<String>,
    correlation_id: Option<String>,
    errors: Vec<TradingError>,
}

impl TradingAnswer {
    /// `details` with the first error's code and message.
    fn details(&self, details: ProviderDetails) -> ProviderDetails {
        match self
            .errors
            .iter()
            .find(|e| e.is_error())
            .or(self.errors.first())
        {
            Some(error) => error.details(details, self.correlation_id.as_deref()),
            None => details,
        }
    }
}

/// One `<Errors>` element.
#[derive(Debug, Default)]
struct TradingError {
    code: Option<String>,
    short_message: Option<String>,
    long_message: Option<String>,
    severity: Option<String>,
    classification: Option<String>,
}

impl TradingError {
    /// An error, not a warning (no `SeverityCode` counts as an error).
    fn is_error(&self) -> bool {
        self.severity.as_deref() != Some("Warning")
    }

    fn rejects_token(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|code| TOKEN_REJECTED_CODES.contains(&code))
    }

    fn details(&self, mut details: ProviderDetails, request_id: Option<&str>) -> ProviderDetails {
        if let Some(code) = &self.code {
            details = details.with_code(code);
        }
        if let Some(message) = self.short_message.as_ref().or(self.long_message.as_ref()) {
            details = details.with_message(message);
        }
        if let Some(id) = request_id {
            details = details.with_request_id(id);
        }
        details
    }
}

/// Scans the first [`XML_SCAN_LIMIT`] bytes of `body` for a Trading API
/// answer: `None` when there is neither an `Ack` nor an `Errors` element.
/// Namespace prefixes are ignored; comments, CDATA sections, processing
/// instructions and declarations are skipped. Total: any bytes, no panic.
fn trading_errors(body: &[u8]) -> Option<TradingAnswer> {
    let window = body.get(..body.len().min(XML_SCAN_LIMIT)).unwrap_or(body);
    let mut answer = TradingAnswer::default();
    let mut current: Option<TradingError> = None;
    let mut seen = false;
    let mut rest = window;
    while let Some(open) = rest.iter().position(|&b| b == b'<') {
        rest = rest.get(open + 1..).unwrap_or_default();
        // Markup that is not an element: skip to its end.
        let markup = [
            (&b"!--"[..], &b"-->"[..]),
            (b"![CDATA[", b"]]>"),
            (b"?", b"?>"),
            (b"!", b">"),
        ]
        .into_iter()
        .find(|(start, _)| rest.starts_with(start));
        if let Some((_, end)) = markup {
            rest = match find(rest, end) {
                Some(at) => rest.get(at + end.len()..).unwrap_or_default(),
                None => &[],
            };
            continue;
        }
        let Some(close) = rest.iter().position(|&b| b == b'>') else {
            break;
        };
        let tag = rest.get(..close).unwrap_or_default();
        rest = rest.get(close + 1..).unwrap_or_default();
        let (closing, tag) = match tag.strip_prefix(b"/") {
            Some(tag) => (true, tag),
            None => (false, tag),
        };
        let self_closing = tag.last() == Some(&b'/');
        let name = local_name(tag);
        let text = || element_text(rest);
        match (name, closing) {
            (b"Errors", false) if !self_closing => {
                seen = true;
                current = Some(TradingError::default());
            }
            (b"Errors", true) => {
                if let Some(error) = current.take()
                    && answer.errors.len() < MAX_XML_ERRORS
                {
                    answer.errors.push(error);
                }
            }
            (b"Ack", false) if current.is_none() => {
                seen = true;
                answer.ack = text();
            }
            (b"CorrelationID", false) if current.is_none() => answer.correlation_id = text(),
            (name, false) => {
                if let Some(error) = current.as_mut() {
                    let field = match name {
                        b"ErrorCode" => &mut error.code,
                        b"ShortMessage" => &mut error.short_message,
                        b"LongMessage" => &mut error.long_message,
                        b"SeverityCode" => &mut error.severity,
                        b"ErrorClassification" => &mut error.classification,
                        _ => continue,
                    };
                    *field = text();
                }
            }
            _ => {}
        }
    }
    // An unclosed `Errors` (a truncated body) still counts.
    if let Some(error) = current
        && answer.errors.len() < MAX_XML_ERRORS
    {
        answer.errors.push(error);
    }
    seen.then_some(answer)
}

/// The element name without attributes and without a namespace prefix.
fn local_name(tag: &[u8]) -> &[u8] {
    let end = tag
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/')
        .unwrap_or(tag.len());
    let name = tag.get(..end).unwrap_or_default();
    match name.iter().rposition(|&b| b == b':') {
        Some(colon) => name.get(colon + 1..).unwrap_or_default(),
        None => name,
    }
}

/// The text up to the next `<`, trimmed, with XML's five entities decoded
/// (and at most 1 KiB of it); `None` when blank.
fn element_text(rest: &[u8]) -> Option<String> {
    let end = rest.iter().position(|&b| b == b'<').unwrap_or(rest.len());
    let raw = rest.get(..end.min(1024)).unwrap_or_default();
    let text = String::from_utf8_lossy(raw)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_reads_prefixed_and_odd_markup() {
        let body = br#"<?xml version="1.0"?><!-- <Ack>Success</Ack> --><soap:Envelope><ns:GetUserResponse xmlns:ns="urn:ebay:apis:eBLBaseComponents"><ns:Ack>Failure</ns:Ack><ns:Errors><ns:ShortMessage><![CDATA[x]]></ns:ShortMessage><ns:ErrorCode> 931 </ns:ErrorCode><ns:SeverityCode>Error</ns:SeverityCode></ns:Errors></ns:GetUserResponse></soap:Envelope>"#;
        let answer = trading_errors(body).unwrap();
        assert_eq!(answer.ack.as_deref(), Some("Failure"));
        assert_eq!(answer.errors.len(), 1);
        assert_eq!(answer.errors[0].code.as_deref(), Some("931"));
        assert!(answer.errors[0].rejects_token());
    }

    #[test]
    fn scanner_is_total() {
        for body in [
            &b""[..],
            b"<",
            b"<<<<>>>>",
            b"<Errors",
            b"<Errors><ErrorCode>931",
            b"<!--",
            b"<![CDATA[",
            b"<?",
            b"</>",
            b"<:>",
            b"<Ack/>",
            b"\xff\xfe<Ack>\xff</Ack>",
        ] {
            let _ = trading_errors(body);
        }
        assert!(trading_errors(b"<html><body>hi</body></html>").is_none());
        let truncated =
            trading_errors(b"<R><Ack>Failure</Ack><Errors><ErrorCode>21916984").unwrap();
        assert_eq!(truncated.errors[0].code.as_deref(), Some("21916984"));
    }

    #[test]
    fn content_types() {
        for xml in [
            "text/xml",
            "text/xml;charset=utf-8",
            "Application/XML; charset=UTF-8",
            "application/soap+xml",
        ] {
            assert!(is_xml(xml), "{xml}");
        }
        for other in ["application/json", "text/html", "", "xml"] {
            assert!(!is_xml(other), "{other}");
        }
    }
}
