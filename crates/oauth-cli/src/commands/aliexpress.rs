//! What is particular to AliExpress on the command line: `oauth aliexpress sign`, to
//! debug `IncompleteSignature` errors, and the API names of `oauth aliexpress api` (a
//! business API name, called on `/sync` with `method=`, or a system API path, called
//! on `/rest/<path>`; the attachment signs the query).

use std::time::SystemTime;

use clap::{ArgMatches, Args, FromArgMatches};
use oauth_all::aliexpress::{ApiKind, REST_PATH, SIGN_METHOD, SYNC_PATH, Signer};
use oauth_core::url::Url;
use oauth_core::{AppSecret, to_unix_millis};
use serde_json::json;

use super::Context;
use super::registry::{Extras, Run};
use crate::error::CliError;
use crate::output::{err, json_out, out};
use crate::settings::{ProviderSettings, config_error};

/// AliExpress's extras.
#[derive(Debug, Clone, Copy)]
pub struct AliExpressExtras;

impl Extras for AliExpressExtras {
    fn provider(&self) -> &'static str {
        oauth_all::aliexpress::PROVIDER
    }

    fn about(&self) -> &'static str {
        ", request signing"
    }

    fn subcommands(&self) -> Vec<clap::Command> {
        vec![SignArgs::augment_args(clap::Command::new("sign")).about(
            "Print the text that is signed and the signature of an IOP call, to compare with \
             what your code sends. The app secret (OAUTH_ALIEXPRESS_APP_SECRET) is never \
             printed.",
        )]
    }

    fn api_target_help(&self) -> Option<&'static str> {
        Some(
            "The HTTP method (optional: GET, or POST with --data) and the API: a business API \
             name (`aliexpress.solution.order.get`: called on /sync with `method=`) or a \
             system API path (`/order/get`: called on /rest/order/get). Its parameters go in \
             --param; the token, app key, timestamp and signature are added to the query.",
        )
    }

    fn api_target(&self, base: &Url, target: &str) -> Option<Result<Url, CliError>> {
        Some(api_url(base, target))
    }

    fn run<'a>(
        &'a self,
        ctx: &'a Context,
        settings: &'a ProviderSettings,
        name: &'a str,
        matches: &'a ArgMatches,
    ) -> Run<'a> {
        Box::pin(async move {
            match name {
                "sign" => {
                    let args = SignArgs::from_arg_matches(matches)
                        .map_err(|e| CliError::usage(e.to_string()))?;
                    sign(ctx, settings, &args)
                }
                other => Err(CliError::usage(format!(
                    "`oauth aliexpress {other}` is not a command"
                ))),
            }
        })
    }
}

/// The URL of `oauth aliexpress api`'s `target` under the API `base` (`<base>/sync`, or
/// a root given with `--api-base-url`): a business API name on `<root>/sync?method=`, a
/// system API path on `<root>/rest<path>`.
///
/// # Errors
/// A usage error for a name that is neither.
pub fn api_url(base: &Url, target: &str) -> Result<Url, CliError> {
    let trimmed = base.as_str().trim_end_matches('/');
    let root = trimmed.strip_suffix(SYNC_PATH).unwrap_or(trimmed);
    let parse = |url: String| {
        Url::parse(&url).map_err(|_| CliError::configuration("invalid AliExpress API base URL"))
    };
    if target.starts_with('/') {
        return super::api::join_path(&parse(format!("{root}{REST_PATH}"))?, target);
    }
    let well_formed = !target.is_empty()
        && target
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        && ApiKind::of(target) == ApiKind::Business;
    if !well_formed {
        return Err(CliError::usage(
            "an AliExpress API is a business API name (`aliexpress.solution.order.get`) or a \
             system API path starting with `/` (`/order/get`)",
        ));
    }
    let mut url = parse(format!("{root}{SYNC_PATH}"))?;
    url.query_pairs_mut().append_pair("method", target);
    Ok(url)
}

/// Arguments of `aliexpress sign`.
#[derive(Args, Debug, Clone)]
pub struct SignArgs {
    /// The API name: a path for system APIs (`/auth/token/create`), a dotted name for
    /// business APIs (`aliexpress.solution.order.get`).
    #[arg(long)]
    pub api: String,
    /// A parameter of the call, `NAME=VALUE` (repeat for each). `app_key` (from the
    /// settings), `sign_method=sha256`, `timestamp` and, for business APIs, `method` are
    /// added when not given.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// The `timestamp` in Unix milliseconds [default: now].
    #[arg(long, value_name = "MS")]
    pub timestamp: Option<u64>,
}

/// The parameters that will be signed, completed with the common ones.
///
/// # Errors
/// A usage error for a malformed or repeated parameter, an invalid API name, or a
/// timestamp given twice.
pub fn signed_params(
    api: &str,
    given: &[String],
    app_key: Option<&str>,
    timestamp: Option<u64>,
    now: SystemTime,
) -> Result<Vec<(String, String)>, CliError> {
    if api.is_empty() || api.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CliError::usage(
            "--api must be an IOP API name without spaces",
        ));
    }
    let kind = ApiKind::of(api);
    if kind == ApiKind::System && !api.starts_with('/') {
        return Err(CliError::usage(
            "a system API name is a path starting with `/` (e.g. `/auth/token/create`)",
        ));
    }
    let mut params: Vec<(String, String)> = Vec::with_capacity(given.len() + 4);
    for (index, pair) in given.iter().enumerate() {
        let Some((name, value)) = pair.split_once('=') else {
            // Not echoed: it could be a token pasted without its name.
            return Err(CliError::usage(format!(
                "--param expects NAME=VALUE; --param number {} has no `=`",
                index + 1
            )));
        };
        if name.is_empty() {
            return Err(CliError::usage("--param has an empty name"));
        }
        if name == "sign" {
            return Err(CliError::usage(
                "`sign` is the result, not a signed parameter: leave it out",
            ));
        }
        if params.iter().any(|(n, _)| n == name) {
            return Err(CliError::usage(format!(
                "the parameter `{name}` is given twice (the platform refuses duplicates)"
            )));
        }
        params.push((name.to_owned(), value.to_owned()));
    }
    let has = |params: &[(String, String)], name: &str| params.iter().any(|(n, _)| n == name);
    if !has(&params, "app_key")
        && let Some(app_key) = app_key
    {
        params.push(("app_key".to_owned(), app_key.to_owned()));
    }
    if kind == ApiKind::Business && !has(&params, "method") {
        params.push(("method".to_owned(), api.to_owned()));
    }
    if !has(&params, "sign_method") {
        params.push(("sign_method".to_owned(), SIGN_METHOD.to_owned()));
    }
    match (has(&params, "timestamp"), timestamp) {
        (true, Some(_)) => {
            return Err(CliError::usage(
                "the timestamp is given twice: use --timestamp or --param timestamp=..., not both",
            ));
        }
        (false, Some(ms)) => params.push(("timestamp".to_owned(), ms.to_string())),
        (false, None) => params.push(("timestamp".to_owned(), to_unix_millis(now).to_string())),
        (true, None) => {}
    }
    // The order on the wire and in the signature: byte-wise by name, empties left out.
    params.retain(|(_, value)| !value.is_empty());
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(params)
}

fn sign(ctx: &Context, settings: &ProviderSettings, args: &SignArgs) -> Result<(), CliError> {
    // Only the app secret is needed; the app key is added when it is set.
    let values = settings.checked(&|setting| setting.key != "app_secret")?;
    let secret = values.get("app_secret").unwrap_or_default();
    let signer = Signer::new(&AppSecret::new(secret)).map_err(config_error("AliExpress"))?;
    let app_key = settings.get("app_key").map(str::to_owned);
    let params = signed_params(
        &args.api,
        &args.params,
        app_key.as_deref(),
        args.timestamp,
        SystemTime::now(),
    )?;
    let text = Signer::string_to_sign(
        &args.api,
        params.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    );
    let signature = signer.sign_string(&text);
    let kind = match ApiKind::of(&args.api) {
        ApiKind::System => "system",
        _ => "business",
    };
    if !params.iter().any(|(n, _)| n == "app_key") {
        err(
            "warning: no app_key: set OAUTH_ALIEXPRESS_APP_KEY or pass --param app_key=...; \
             every real call carries it",
        );
    }
    if ctx.json {
        json_out(&json!({
            "api": args.api,
            "kind": kind,
            "params": params.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "string_to_sign": text.expose_secret(),
            "sign": signature.expose_secret(),
        }));
        return Ok(());
    }
    out(&format!(
        "api:            {} ({kind} API{})",
        args.api,
        if kind == "system" {
            ": its path is signed in front"
        } else {
            ": no prefix"
        }
    ));
    out("parameters (sorted by name, empty values left out, `sign` excluded):");
    for (name, value) in &params {
        out(&format!("  {name}={value}"));
    }
    out(&format!("string to sign: {}", text.expose_secret()));
    out(&format!("sign:           {}", signature.expose_secret()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::from_unix_millis;

    fn vector_params() -> Vec<String> {
        vec!["code=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26".to_owned()]
    }

    #[test]
    fn common_parameters_are_completed_and_sorted() {
        let params = signed_params(
            "/auth/token/create",
            &vector_params(),
            Some("12345678"),
            Some(1_517_820_392_000),
            from_unix_millis(0),
        )
        .unwrap();
        let text = Signer::string_to_sign(
            "/auth/token/create",
            params.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        );
        assert_eq!(
            text.expose_secret(),
            "/auth/token/createapp_key12345678code3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26sign_methodsha256timestamp1517820392000"
        );
        let signer = Signer::new(&AppSecret::new("helloworld")).unwrap();
        assert_eq!(
            signer.sign_string(&text).expose_secret(),
            "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81"
        );
    }

    #[test]
    fn business_apis_sign_their_method() {
        let params = signed_params(
            "aliexpress.logistics.redefining.getonlinelogisticsinfo",
            &[
                "access_token=test".to_owned(),
                "aliexpress_category_id=200135143".to_owned(),
                "app_key=123456".to_owned(),
            ],
            Some("ignored-when-given"),
            Some(1_517_820_392_000),
            from_unix_millis(0),
        )
        .unwrap();
        let signer = Signer::new(&AppSecret::new("helloworld")).unwrap();
        let sign = signer.sign(
            "aliexpress.logistics.redefining.getonlinelogisticsinfo",
            params.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        );
        assert_eq!(
            sign.expose_secret(),
            "F7F7926B67316C9D1E8E15F7E66940ED3059B1638C497D77973F30046EFB5BBB"
        );
    }

    #[test]
    fn now_is_the_default_timestamp_and_errors_are_clear() {
        let params = signed_params("/order/get", &[], None, None, from_unix_millis(1234)).unwrap();
        assert_eq!(
            params,
            vec![
                ("sign_method".to_owned(), "sha256".to_owned()),
                ("timestamp".to_owned(), "1234".to_owned()),
            ]
        );
        let error = |api: &str, given: &[&str], ts: Option<u64>| {
            let given: Vec<String> = given.iter().map(|s| (*s).to_owned()).collect();
            signed_params(api, &given, None, ts, from_unix_millis(0))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("/x", &["a=1", "SENTINEL-no-equals"], None),
            "--param expects NAME=VALUE; --param number 2 has no `=`"
        );
        assert!(error("/x", &["a=1", "a=2"], None).contains("`a` is given twice"));
        assert!(error("/x", &["timestamp=1"], Some(2)).contains("given twice"));
        assert!(error("order/get", &[], None).contains("starting with `/`"));
        assert!(error("/x", &["sign=ABC"], None).contains("leave it out"));
        assert!(error("a b", &[], None).contains("without spaces"));
    }
}
