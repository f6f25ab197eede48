//! The HTML consent pages (login form, then Agree / Decline), driven with plain form
//! posts as a browser would; the programmatic shortcut stays as it was.

use oauth_sandbox::{Provider, Sandbox};

use crate::common::{client, form, location, query_of, with_query};

/// The three providers with a consent page: (provider, authorize URL, redirect target).
fn authorize_urls(sandbox: &Sandbox, state: &str) -> Vec<(Provider, String, String)> {
    let creds = sandbox.credentials();
    vec![
        (
            Provider::Ebay,
            with_query(
                &format!("{}/oauth2/authorize", sandbox.ebay_base_url()),
                &[
                    ("client_id", &creds.ebay.client_id),
                    ("redirect_uri", &creds.ebay.ru_name),
                    ("response_type", "code"),
                    ("scope", "https://api.ebay.com/oauth/api_scope/sell.account"),
                    ("state", state),
                ],
            ),
            creds.ebay.accept_url.clone(),
        ),
        (
            Provider::AliExpress,
            with_query(
                &format!("{}/oauth/authorize", sandbox.aliexpress_base_url()),
                &[
                    ("response_type", "code"),
                    ("force_auth", "true"),
                    ("redirect_uri", &creds.aliexpress.redirect_uri),
                    ("client_id", &creds.aliexpress.app_key),
                    ("state", state),
                ],
            ),
            creds.aliexpress.redirect_uri.clone(),
        ),
        (
            Provider::OrangeConnex,
            with_query(
                &format!("{}/oauth/authorize", sandbox.orangeconnex_base_url()),
                &[
                    ("response_type", "code"),
                    ("client_id", &creds.orangeconnex.client_id),
                    ("redirect_uri", &creds.orangeconnex.redirect_uri),
                    ("state", state),
                ],
            ),
            creds.orangeconnex.redirect_uri.clone(),
        ),
    ]
}

const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

async fn page(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    response.text().await.unwrap()
}

async fn post(url: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(url)
        .header("accept", HTML)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_browser_signs_in_and_agrees() {
    let sandbox = Sandbox::start().await.unwrap();
    for (provider, url, target) in authorize_urls(&sandbox, "st-1") {
        let response = client()
            .get(&url)
            .header("accept", HTML)
            .send()
            .await
            .unwrap();
        let login = page(response, 200).await;
        assert!(login.contains("<html lang=\"en\">"), "{provider}: {login}");
        assert!(login.contains("<h1>Sign in to"), "{provider}: {login}");
        assert!(login.contains("<label for=\"seller\">Seller name</label>"));
        assert!(login.contains("<label for=\"password\">Password</label>"));
        assert!(login.contains("<button type=\"submit\" class=\"primary\">Sign in</button>"));

        let consent = page(
            post(
                &url,
                &[
                    ("step", "login"),
                    ("seller", oauth_sandbox::DEFAULT_ACCOUNT),
                    ("password", "x"),
                ],
            )
            .await,
            200,
        )
        .await;
        assert!(consent.contains("<h1>Allow "), "{provider}: {consent}");
        assert!(consent.contains(">Agree</button>") && consent.contains(">Decline</button>"));
        assert!(consent.contains(oauth_sandbox::DEFAULT_ACCOUNT));

        let agreed = post(
            &url,
            &[
                ("step", "consent"),
                ("seller", oauth_sandbox::DEFAULT_ACCOUNT),
                ("decision", "agree"),
            ],
        )
        .await;
        assert!(agreed.status().is_redirection(), "{provider}");
        let to = location(&agreed);
        assert!(to.starts_with(&target), "{provider}: {to}");
        let query = query_of(&to);
        assert_eq!(query["state"], "st-1", "{provider}");
        assert!(!query["code"].is_empty(), "{provider}");
        assert!(!query.contains_key("error"), "{provider}");
    }
}

#[tokio::test]
async fn decline_redirects_with_access_denied() {
    let sandbox = Sandbox::start().await.unwrap();
    for (provider, url, target) in authorize_urls(&sandbox, "st-2") {
        let declined = post(
            &url,
            &[
                ("step", "consent"),
                ("seller", oauth_sandbox::DEFAULT_ACCOUNT),
                ("decision", "decline"),
            ],
        )
        .await;
        assert!(declined.status().is_redirection(), "{provider}");
        let to = location(&declined);
        assert!(to.starts_with(&target), "{provider}: {to}");
        let query = query_of(&to);
        assert_eq!(query["error"], "access_denied", "{provider}");
        assert_eq!(query["state"], "st-2", "{provider}");
        assert!(!query.contains_key("code"), "{provider}");
    }
}

#[tokio::test]
async fn an_unknown_seller_gets_an_error_on_the_page() {
    let sandbox = Sandbox::start().await.unwrap();
    for (provider, url, _) in authorize_urls(&sandbox, "st-3") {
        let again = page(
            post(
                &url,
                &[
                    ("step", "login"),
                    ("seller", "nobody<b>"),
                    ("password", "x"),
                ],
            )
            .await,
            401,
        )
        .await;
        assert!(again.contains("role=\"alert\""), "{provider}: {again}");
        assert!(again.contains("no sandbox seller named"), "{provider}");
        assert!(again.contains("nobody&lt;b&gt;") && !again.contains("nobody<b>"));
        assert!(again.contains("<label for=\"seller\">"));
        // Consent cannot be given for an unknown seller either.
        let refused = post(
            &url,
            &[
                ("step", "consent"),
                ("seller", "nobody"),
                ("decision", "agree"),
            ],
        )
        .await;
        assert_eq!(refused.status(), 401, "{provider}");
        // Nor without a password.
        let no_password = post(
            &url,
            &[
                ("step", "login"),
                ("seller", oauth_sandbox::DEFAULT_ACCOUNT),
            ],
        )
        .await;
        assert_eq!(no_password.status(), 401, "{provider}");
    }
}

#[tokio::test]
async fn a_seeded_seller_can_sign_in() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.seed_account(Provider::OrangeConnex, "shop-7");
    let (_, url, _) = authorize_urls(&sandbox, "st-4").pop().unwrap();
    let consent = page(
        post(
            &url,
            &[("step", "login"), ("seller", "shop-7"), ("password", "p")],
        )
        .await,
        200,
    )
    .await;
    assert!(consent.contains("shop-7"));
    // Seeded for OrangeConnex only.
    let (_, ebay, _) = authorize_urls(&sandbox, "st-4").remove(0);
    let response = post(
        &ebay,
        &[("step", "login"), ("seller", "shop-7"), ("password", "p")],
    )
    .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_page_escapes_the_parameters_it_echoes() {
    let sandbox = Sandbox::start().await.unwrap();
    for (provider, url, _) in authorize_urls(&sandbox, "\"><script>x</script>") {
        let response = client()
            .get(&url)
            .header("accept", HTML)
            .send()
            .await
            .unwrap();
        let login = page(response, 200).await;
        assert!(!login.contains("<script>"), "{provider}: {login}");
    }
}

#[tokio::test]
async fn programs_keep_the_shortcut() {
    let sandbox = Sandbox::start().await.unwrap();
    for (provider, url, target) in authorize_urls(&sandbox, "st-5") {
        // No Accept: text/html (reqwest's default), or sandbox_account given: a redirect.
        let response = client().get(&url).send().await.unwrap();
        assert!(response.status().is_redirection(), "{provider}");
        assert!(location(&response).starts_with(&target));
        let chosen = format!("{url}&sandbox_account=shop-9");
        let response = client()
            .get(&chosen)
            .header("accept", HTML)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection(), "{provider}");
        assert!(query_of(&location(&response)).contains_key("code"));
    }
}
