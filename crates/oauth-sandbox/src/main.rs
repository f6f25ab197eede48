//! `oauth-sandbox`: serves the emulated provider endpoints on 127.0.0.1 until
//! interrupted, after printing the base URLs and the registered credentials.
#![deny(rustdoc::broken_intra_doc_links)]

use std::io::Write as _;

use oauth_sandbox::Sandbox;

const USAGE: &str = "usage: oauth-sandbox [--port N]\n\n\
Serves a local emulator of the eBay, AliExpress, OrangeConnex and Eshopbox OAuth\n\
endpoints on 127.0.0.1 (port 0 or none: a free port) until Ctrl-C.\n";

fn parse_port(args: &[String]) -> Result<Option<u16>, String> {
    let mut port = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let value = if let Some(value) = arg.strip_prefix("--port=") {
            value.to_owned()
        } else if arg == "--port" || arg == "-p" {
            iter.next().cloned().ok_or("--port needs a value")?
        } else if arg == "--help" || arg == "-h" {
            return Err(String::new());
        } else {
            return Err(format!("unknown argument: {arg}"));
        };
        port = Some(
            value
                .parse::<u16>()
                .map_err(|_| format!("invalid port: {value}"))?,
        );
    }
    Ok(port)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match parse_port(&args) {
        Ok(port) => port,
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
    let sandbox = match Sandbox::builder().port(port.unwrap_or(0)).start().await {
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
         Eshopbox      token URL     {esb}\n\
         \x20             client_id     {esb_id}\n\
         \x20             client_secret {esb_secret}\n\
         \x20             refresh_token {esb_refresh}\n\
         \n\
         These are test values of a local emulator. Press Ctrl-C to stop.",
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
        esb = sandbox.eshopbox_token_url(),
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
