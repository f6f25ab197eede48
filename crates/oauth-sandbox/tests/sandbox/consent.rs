use oauth_sandbox::{Provider, Sandbox};

use crate::common::{client, json, location, query_of, with_query};

#[tokio::test]
async fn callback_page() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    for provider in Provider::ALL {
        let response = http
            .get(format!(
                "{}?code=abc&state=s",
                sandbox.callback_url(provider)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let text = response.text().await.unwrap();
        assert!(text.contains("you may close this window"), "{text}");
        assert!(!text.contains("abc"));
    }
    let response = http
        .get(format!("{}/callback/nowhere", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn following_the_redirect_lands_on_the_callback_page() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = reqwest::Client::new();
    let creds = &sandbox.credentials().orangeconnex;
    let url = with_query(
        &format!("{}/oauth/authorize", sandbox.orangeconnex_base_url()),
        &[
            ("response_type", "code"),
            ("client_id", &creds.client_id),
            ("redirect_uri", &creds.redirect_uri),
            ("state", "s"),
        ],
    );
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.url().as_str().starts_with(&creds.redirect_uri));
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("you may close this window")
    );
}

#[tokio::test]
async fn denied_consent() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    sandbox.deny_consent(Provider::Ebay, true);
    let creds = &sandbox.credentials().ebay;
    let authorize = with_query(
        &format!("{}/oauth2/authorize", sandbox.ebay_base_url()),
        &[
            ("client_id", &creds.client_id),
            ("redirect_uri", &creds.ru_name),
            ("response_type", "code"),
            ("scope", "https://api.ebay.com/oauth/api_scope"),
            ("state", "s1"),
        ],
    );
    let response = http.get(&authorize).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let params = query_of(&location(&response));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "s1");
    assert!(params.contains_key("error_description"));
    assert!(!params.contains_key("code"));

    sandbox.deny_consent(Provider::Ebay, false);
    let response = http.get(&authorize).send().await.unwrap();
    assert!(query_of(&location(&response)).contains_key("code"));
}

#[tokio::test]
async fn authorize_validation() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let creds = sandbox.credentials().aliexpress.clone();
    let base = format!("{}/oauth/authorize", sandbox.aliexpress_base_url());

    // Unknown client or unregistered redirect: answered in place, never redirected.
    for pairs in [
        vec![
            ("response_type", "code"),
            ("client_id", "nobody"),
            ("redirect_uri", creds.redirect_uri.as_str()),
            ("state", "s"),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", creds.app_key.as_str()),
            ("redirect_uri", "https://evil.example/"),
            ("state", "s"),
        ],
        vec![("response_type", "code"), ("state", "s")],
    ] {
        let response = http.get(with_query(&base, &pairs)).send().await.unwrap();
        assert!(response.headers().get("location").is_none());
        let (status, body) = json(response).await;
        assert_eq!(status, 400);
        assert!(body["error"].is_string());
    }

    // Bad response_type, missing state: redirected with an error.
    let response = http
        .get(with_query(
            &base,
            &[
                ("response_type", "token"),
                ("client_id", &creds.app_key),
                ("redirect_uri", &creds.redirect_uri),
                ("state", "s"),
            ],
        ))
        .send()
        .await
        .unwrap();
    let params = query_of(&location(&response));
    assert_eq!(
        (params["error"].as_str(), params["state"].as_str()),
        ("unsupported_response_type", "s")
    );
    let response = http
        .get(with_query(
            &base,
            &[
                ("response_type", "code"),
                ("client_id", &creds.app_key),
                ("redirect_uri", &creds.redirect_uri),
            ],
        ))
        .send()
        .await
        .unwrap();
    let params = query_of(&location(&response));
    assert_eq!(params["error"], "invalid_request");

    // Unknown paths answer a JSON 404.
    let (status, body) = json(
        http.get(format!("{}/nope", sandbox.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn builder_overrides() {
    let sandbox = Sandbox::builder()
        .ebay_client("my-id", "my-secret")
        .ebay_ru_name("My_RuName")
        .ebay_accept_url("https://127.0.0.1:9/accept")
        .aliexpress_app("777", "s3cret")
        .orangeconnex_client("oc", None)
        .eshopbox_client("e-id", "e-secret", "e-refresh")
        .start()
        .await
        .unwrap();
    let creds = sandbox.credentials();
    assert_eq!(creds.ebay.client_id, "my-id");
    assert_eq!(creds.ebay.accept_url, "https://127.0.0.1:9/accept");
    assert_eq!(creds.aliexpress.app_key, "777");
    assert_eq!(
        creds.aliexpress.redirect_uri,
        sandbox.callback_url(Provider::AliExpress)
    );
    assert_eq!(creds.orangeconnex.client_key, None);
    assert_eq!(creds.eshopbox.refresh_token, "e-refresh");

    let http = client();
    let url = with_query(
        &format!("{}/oauth2/authorize", sandbox.ebay_base_url()),
        &[
            ("client_id", "my-id"),
            ("redirect_uri", "My_RuName"),
            ("response_type", "code"),
            ("scope", "https://api.ebay.com/oauth/api_scope"),
            ("state", "s"),
        ],
    );
    let response = http.get(url).send().await.unwrap();
    assert!(location(&response).starts_with("https://127.0.0.1:9/accept?"));

    let invalid = Sandbox::builder()
        .aliexpress_redirect_uri("not a url")
        .start()
        .await;
    assert!(matches!(
        invalid,
        Err(oauth_sandbox::SandboxError::InvalidConfig(_))
    ));
    let empty = Sandbox::builder().ebay_client("", "x").start().await;
    assert!(matches!(
        empty,
        Err(oauth_sandbox::SandboxError::InvalidConfig(_))
    ));
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Sandbox>();
    check::<oauth_sandbox::SandboxBuilder>();
    check::<oauth_sandbox::Credentials>();
    check::<oauth_sandbox::Fault>();
    check::<oauth_sandbox::SandboxError>();
}
