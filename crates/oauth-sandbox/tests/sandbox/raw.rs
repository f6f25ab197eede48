//! Provider-independent raw requests against a sandbox at a base URL with the default
//! credentials (an in-process `Sandbox` or the binary).

use oauth_sandbox::Provider;
use oauth_sandbox::credentials::{
    DEFAULT_ALIEXPRESS_APP_KEY, DEFAULT_ALIEXPRESS_APP_SECRET, DEFAULT_EBAY_CLIENT_ID,
    DEFAULT_EBAY_CLIENT_SECRET, DEFAULT_ESHOPBOX_CLIENT_ID, DEFAULT_ESHOPBOX_CLIENT_SECRET,
    DEFAULT_ORANGECONNEX_CLIENT_ID, DEFAULT_ORANGECONNEX_CLIENT_KEY,
};
use oauth_sandbox::signature::aliexpress_sign;
use serde_json::{Value, json};

use crate::common::{basic, form, json, now_ms, with_query};

/// `POST <base>/admin/<path>` with a JSON body; a `204` gives `Value::Null`.
pub async fn admin_post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let response = http
        .post(format!("{base}/admin/{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    if response.status() == 204 {
        return (204, Value::Null);
    }
    json(response).await
}

/// An eBay application token (client credentials grant) from the sandbox at `base`.
pub async fn ebay_application_token(http: &reqwest::Client, base: &str) -> String {
    let response = http
        .post(format!("{base}/identity/v1/oauth2/token"))
        .header(
            "authorization",
            basic(DEFAULT_EBAY_CLIENT_ID, DEFAULT_EBAY_CLIENT_SECRET),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://api.ebay.com/oauth/api_scope"),
        ]))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// `GET <base>/admin/counters`.
pub async fn counters(http: &reqwest::Client, base: &str) -> Value {
    let (status, value) = json(
        http.get(format!("{base}/admin/counters"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{value}");
    value
}

/// Seeds `accounts` of `provider`; their token sets, in order.
pub async fn seed(
    http: &reqwest::Client,
    base: &str,
    provider: Provider,
    accounts: &[&str],
) -> Vec<Value> {
    let (status, value) = admin_post(
        http,
        base,
        "accounts",
        &json!({ "provider": provider.path_segment(), "accounts": accounts }),
    )
    .await;
    assert_eq!(status, 200, "{value}");
    assert_eq!(value["provider"], provider.path_segment());
    let seeded = value["accounts"].as_array().unwrap().clone();
    assert_eq!(seeded.len(), accounts.len());
    seeded
}

/// The outcome of a refresh grant.
#[derive(Debug)]
pub struct Refreshed {
    pub status: u16,
    pub body: Value,
}

impl Refreshed {
    pub fn ok(&self) -> bool {
        self.status == 200 && self.body["access_token"].is_string()
    }

    /// The refresh token of the response, if it carries one.
    pub fn refresh_token(&self) -> Option<String> {
        self.body["refresh_token"].as_str().map(str::to_owned)
    }

    /// The provider's own "invalid grant" answer.
    pub fn assert_invalid_grant(&self, provider: Provider) {
        let (status, field, value) = match provider {
            Provider::Ebay => (400, "error", "invalid_grant"),
            Provider::AliExpress => (200, "code", "IllegalRefreshToken"),
            Provider::OrangeConnex => (400, "error", "invalid_grant"),
            Provider::Eshopbox => (403, "error", "invalid_grant"),
            _ => unreachable!(),
        };
        assert_eq!(self.status, status, "{provider}: {}", self.body);
        assert_eq!(self.body[field], value, "{provider}: {}", self.body);
        assert!(self.body.get("access_token").is_none(), "{}", self.body);
    }
}

/// One refresh grant, the provider's way.
pub async fn refresh(
    http: &reqwest::Client,
    base: &str,
    provider: Provider,
    token: &str,
) -> Refreshed {
    let response = match provider {
        Provider::Ebay => http
            .post(format!("{base}/ebay/identity/v1/oauth2/token"))
            .header(
                "authorization",
                basic(DEFAULT_EBAY_CLIENT_ID, DEFAULT_EBAY_CLIENT_SECRET),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
            ])),
        Provider::AliExpress => {
            let ts = now_ms();
            let mut params = vec![
                ("app_key", DEFAULT_ALIEXPRESS_APP_KEY),
                ("timestamp", ts.as_str()),
                ("sign_method", "sha256"),
                ("refresh_token", token),
            ];
            let sign = aliexpress_sign(
                DEFAULT_ALIEXPRESS_APP_SECRET,
                Some("/auth/token/refresh"),
                params.iter().copied(),
            );
            params.push(("sign", &sign));
            http.post(with_query(
                &format!("{base}/aliexpress/rest/auth/token/refresh"),
                &params,
            ))
        }
        Provider::OrangeConnex => http
            .post(with_query(
                &format!("{base}/orangeconnex/oauth/token"),
                &[
                    ("client_id", DEFAULT_ORANGECONNEX_CLIENT_ID),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token),
                ],
            ))
            .header("clientKey", DEFAULT_ORANGECONNEX_CLIENT_KEY),
        Provider::Eshopbox => http
            .post(format!("{base}/eshopbox/api/v1/generateToken"))
            .json(&json!({
                "client_id": DEFAULT_ESHOPBOX_CLIENT_ID,
                "client_secret": DEFAULT_ESHOPBOX_CLIENT_SECRET,
                "grant_type": "refresh_token",
                "refresh_token": token,
            })),
        _ => unreachable!(),
    };
    let response = response.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    // A faulted answer (an HTML page) is kept as a JSON string.
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Refreshed { status, body }
}

/// Whether the provider's protected API accepts `access_token`.
pub async fn api_accepts(
    http: &reqwest::Client,
    base: &str,
    provider: Provider,
    access_token: &str,
) -> bool {
    match provider {
        Provider::Ebay => {
            let response = http
                .get(format!("{base}/ebay/sell/account/v1/privilege"))
                .bearer_auth(access_token)
                .send()
                .await
                .unwrap();
            response.status() == 200
        }
        Provider::AliExpress => {
            let ts = now_ms();
            let mut params = vec![
                ("method", "aliexpress.solution.seller.info.query"),
                ("app_key", DEFAULT_ALIEXPRESS_APP_KEY),
                ("timestamp", ts.as_str()),
                ("sign_method", "sha256"),
                ("session", access_token),
            ];
            let sign = aliexpress_sign(DEFAULT_ALIEXPRESS_APP_SECRET, None, params.iter().copied());
            params.push(("sign", &sign));
            let url = with_query(&format!("{base}/aliexpress/sync"), &params);
            let (status, value) = json(http.get(url).send().await.unwrap()).await;
            assert_eq!(status, 200);
            if value.get("error_response").is_some() {
                assert_eq!(
                    value["error_response"]["code"], "IllegalAccessToken",
                    "{value}"
                );
                false
            } else {
                true
            }
        }
        Provider::OrangeConnex => {
            let response = http
                .get(format!("{base}/orangeconnex/openapi/3pp/sku/v3/list"))
                .header("Access-Token", format!("Bearer {access_token}"))
                .header("clientKey", DEFAULT_ORANGECONNEX_CLIENT_KEY)
                .send()
                .await
                .unwrap();
            response.status() == 200
        }
        Provider::Eshopbox => {
            let response = http
                .get(format!("{base}/eshopbox/api/v1/me"))
                .bearer_auth(access_token)
                .send()
                .await
                .unwrap();
            response.status() == 200
        }
        _ => unreachable!(),
    }
}
