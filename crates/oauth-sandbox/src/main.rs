//! `oauth-sandbox`: serves the emulated provider endpoints on 127.0.0.1 until
//! interrupted, after printing the base URLs and the registered credentials.
#![deny(rustdoc::broken_intra_doc_links)]

use std::io::Write as _;

use std::time::Duration;

use oauth_sandbox::{Provider, Sandbox, SandboxBuilder};

const USAGE: &str = "usage: oauth-sandbox [OPTIONS]\n\n\
Serves a local emulator of the eBay, AliExpress, OrangeConnex and Eshopbox OAuth\n\
endpoints on 127.0.0.1 until Ctrl-C.\n\n\
options:\n\
  -p, --port N                    port of 127.0.0.1 (0 or none: a free port)\n\
  --access-token-ttl DURATION     access token lifetime of every provider\n\
  --refresh-token-ttl DURATION    refresh token lifetime of every provider (Eshopbox's\n\
                                  refresh tokens then expire too)\n\
  --rotate-refresh-tokens[=LIST]  refresh grants rotate the refresh token (single use):\n\
                                  every provider, or those of LIST (ebay,aliexpress,\n\
                                  orangeconnex,eshopbox); default: AliExpress only\n\
  --no-rotate-refresh-tokens      no provider rotates (AliExpress included)\n\
  --ebay-accept-url URL           where eBay's consent sends the seller back (the RuName's\n\
                                  auth accepted URL; default: the sandbox's own page)\n\
  --aliexpress-redirect-uri URL   AliExpress's registered redirect URI\n\
  --orangeconnex-redirect-uri URL OrangeConnex's registered redirect URI\n\
                                  (e.g. the callback of `oauth <provider> login` or\n\
                                  `oauth serve`: http://127.0.0.1:8400/callback/ebay)\n\
  -h, --help                      this text\n\n\
DURATION: a number with a unit, ms, s, m, h or d (250ms, 5s, 2m, 1h, 30d), or a bare\n\
number of seconds.\n\n\
Admin API (loopback peers only), under <base>/admin: GET counters,\n\
POST reset-counters, POST revoke, POST reject-access-tokens, POST accounts; see the\n\
crate documentation.\n";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
struct Options {
    port: u16,
    access_token_ttl: Option<Duration>,
    refresh_token_ttl: Option<Duration>,
    /// `(provider, rotates)` settings, in order.
    rotation: Vec<(Provider, bool)>,
    /// eBay's RuName accept URL.
    ebay_accept_url: Option<String>,
    /// AliExpress's registered redirect URI.
    aliexpress_redirect_uri: Option<String>,
    /// OrangeConnex's registered redirect URI.
    orangeconnex_redirect_uri: Option<String>,
}

/// Parses `250ms`, `5s`, `2m`, `1h`, `30d` or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration: {text:?} (examples: 250ms, 5s, 2m, 1h, 30d)");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = |factor: u64| {
        number
            .checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(invalid)
    };
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        _ => Err(invalid()),
    }
}

fn parse_providers(list: &str) -> Result<Vec<Provider>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            Provider::from_path_segment(name).ok_or_else(|| {
                let known = Provider::ALL.map(Provider::path_segment).join(", ");
                format!("unknown provider: {name} ({known})")
            })
        })
        .collect()
}

/// `Err("")`: help was asked for.
fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(value) => Ok(value.clone()),
                None => iter.next().cloned().ok_or(format!("{name} needs a value")),
            }
        };
        match name {
            "--help" | "-h" => return Err(String::new()),
            "--port" | "-p" => {
                let text = value("--port")?;
                options.port = text
                    .parse::<u16>()
                    .map_err(|_| format!("invalid port: {text}"))?;
            }
            "--access-token-ttl" => {
                options.access_token_ttl = Some(parse_duration(&value(name)?)?);
            }
            "--refresh-token-ttl" => {
                options.refresh_token_ttl = Some(parse_duration(&value(name)?)?);
            }
            "--rotate-refresh-tokens" => {
                let providers = match &inline {
                    Some(list) => parse_providers(list)?,
                    None => Provider::ALL.to_vec(),
                };
                options
                    .rotation
                    .extend(providers.into_iter().map(|p| (p, true)));
            }
            "--ebay-accept-url" => options.ebay_accept_url = Some(value(name)?),
            "--aliexpress-redirect-uri" => options.aliexpress_redirect_uri = Some(value(name)?),
            "--orangeconnex-redirect-uri" => {
                options.orangeconnex_redirect_uri = Some(value(name)?);
            }
            "--no-rotate-refresh-tokens" if inline.is_none() => {
                options
                    .rotation
                    .extend(Provider::ALL.into_iter().map(|p| (p, false)));
            }
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }
    Ok(options)
}

fn builder(options: &Options) -> SandboxBuilder {
    let mut builder = Sandbox::builder().port(options.port);
    if let Some(ttl) = options.access_token_ttl {
        builder = builder.access_token_lifetime(ttl);
    }
    if let Some(ttl) = options.refresh_token_ttl {
        builder = builder.refresh_token_lifetime(ttl);
    }
    for (provider, rotate) in &options.rotation {
        builder = builder.provider_rotates_refresh_tokens(*provider, *rotate);
    }
    if let Some(url) = &options.ebay_accept_url {
        builder = builder.ebay_accept_url(url);
    }
    if let Some(url) = &options.aliexpress_redirect_uri {
        builder = builder.aliexpress_redirect_uri(url);
    }
    if let Some(url) = &options.orangeconnex_redirect_uri {
        builder = builder.orangeconnex_redirect_uri(url);
    }
    builder
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(options) => options,
        Err(message) => {
            let mut stderr = std::io::stderr();
            if !message.is_empty() {
                let _ = writeln!(stderr, "oauth-sandbox: {message}");
            }
            let _ = write!(stderr, "{USAGE}");
            return if message.is_empty() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(2)
            };
        }
    };
    let sandbox = match builder(&options).start().await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "oauth-sandbox: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let creds = sandbox.credentials();
    let mut out = std::io::stdout().lock();
    let oc_key = creds.orangeconnex.client_key.as_deref().unwrap_or("(none)");
    let _ = writeln!(
        out,
        "oauth-sandbox listening on {base}\n\
         \n\
         eBay          base          {ebay}\n\
         \x20             client_id     {ebay_id}\n\
         \x20             client_secret {ebay_secret}\n\
         \x20             RuName        {ru_name}\n\
         \x20             accept URL    {accept}\n\
         AliExpress    base          {ae}\n\
         \x20             app_key       {app_key}\n\
         \x20             app_secret    {app_secret}\n\
         \x20             redirect_uri  {ae_redirect}\n\
         OrangeConnex  base          {oc}\n\
         \x20             client_id     {oc_id}\n\
         \x20             clientKey     {oc_key}\n\
         \x20             redirect_uri  {oc_redirect}\n\
         Eshopbox      base          {esb}\n\
         \x20             client_id     {esb_id}\n\
         \x20             client_secret {esb_secret}\n\
         \x20             refresh_token {esb_refresh}\n\
         Admin API     {admin}  (loopback only: GET counters, POST reset-counters, revoke, reject-access-tokens, accounts)\n\
         \n\
         These are test values of a local emulator. Press Ctrl-C to stop.",
        admin = sandbox.admin_url(),
        base = sandbox.base_url(),
        ebay = sandbox.ebay_base_url(),
        ebay_id = creds.ebay.client_id,
        ebay_secret = creds.ebay.client_secret,
        ru_name = creds.ebay.ru_name,
        accept = creds.ebay.accept_url,
        ae = sandbox.aliexpress_base_url(),
        app_key = creds.aliexpress.app_key,
        app_secret = creds.aliexpress.app_secret,
        ae_redirect = creds.aliexpress.redirect_uri,
        oc = sandbox.orangeconnex_base_url(),
        oc_id = creds.orangeconnex.client_id,
        oc_redirect = creds.orangeconnex.redirect_uri,
        esb = sandbox.eshopbox_base_url(),
        esb_id = creds.eshopbox.client_id,
        esb_secret = creds.eshopbox.client_secret,
        esb_refresh = creds.eshopbox.refresh_token,
    );
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    std::process::ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::{Options, parse_args, parse_duration};
    use oauth_sandbox::Provider;
    use std::time::Duration;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(2_592_000)));
        for bad in ["", "s", "5x", "-1s", "1.5s", "5 s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn flags() {
        assert_eq!(parse_args(&args("")), Ok(Options::default()));
        let options = parse_args(&args(
            "--port 8080 --access-token-ttl 5s --refresh-token-ttl=1h --rotate-refresh-tokens=ebay,eshopbox",
        ));
        assert_eq!(
            options,
            Ok(Options {
                port: 8080,
                access_token_ttl: Some(Duration::from_secs(5)),
                refresh_token_ttl: Some(Duration::from_secs(3600)),
                rotation: vec![(Provider::Ebay, true), (Provider::Eshopbox, true)],
                ..Options::default()
            })
        );
        let all = parse_args(&args("--rotate-refresh-tokens")).map(|o| o.rotation.len());
        assert_eq!(all, Ok(4));
        let none = parse_args(&args("--no-rotate-refresh-tokens"))
            .map(|o| o.rotation.iter().all(|(_, rotates)| !rotates));
        assert_eq!(none, Ok(true));
        assert_eq!(parse_args(&args("--help")), Err(String::new()));
        assert!(parse_args(&args("--access-token-ttl")).is_err());
        assert!(parse_args(&args("--access-token-ttl soon")).is_err());
        assert!(parse_args(&args("--rotate-refresh-tokens=amazon")).is_err());
        assert!(parse_args(&args("--verbose")).is_err());
        let urls = parse_args(&args(
            "--ebay-accept-url http://127.0.0.1:8400/callback/ebay --aliexpress-redirect-uri=http://127.0.0.1:8400/callback/aliexpress",
        ))
        .unwrap();
        assert_eq!(
            urls.ebay_accept_url.as_deref(),
            Some("http://127.0.0.1:8400/callback/ebay")
        );
        assert_eq!(
            urls.aliexpress_redirect_uri.as_deref(),
            Some("http://127.0.0.1:8400/callback/aliexpress")
        );
        assert!(parse_args(&args("--ebay-accept-url")).is_err());
    }

    #[test]
    fn an_unknown_provider_is_answered_with_the_known_ones() {
        assert_eq!(
            parse_args(&args("--rotate-refresh-tokens=ebay,amazon")),
            Err("unknown provider: amazon (ebay, aliexpress, orangeconnex, eshopbox)".to_owned())
        );
    }
}
