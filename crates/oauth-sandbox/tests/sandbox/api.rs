//! The providers' API endpoints (the token each provider's way, its success and
//! invalid-token shapes), the rejection of access tokens, and the API counters.

use oauth_sandbox::credentials::{DEFAULT_ALIEXPRESS_APP_KEY, DEFAULT_ALIEXPRESS_APP_SECRET};
use oauth_sandbox::signature::aliexpress_sign;
use oauth_sandbox::{Provider, Sandbox};
use serde_json::{Value, json};

use crate::common::{client, form, json, keys, now_ms, with_query};
use crate::raw::{admin_post, api_accepts, counters, ebay_application_token, refresh};

/// eBay's `401` for an invalid access token, with `WWW-Authenticate`.
async fn assert_ebay_invalid_token(response: reqwest::Response) {
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"ebay\", error=\"invalid_token\""
    );
    let (status, body) = json(response).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"errors": [{
            "errorId": 1001,
            "domain": "OAuth",
            "category": "REQUEST",
            "message": "Invalid access token",
            "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header."
        }]})
    );
}

#[tokio::test]
async fn ebay_rest_and_trading() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.ebay_base_url();
    let user = sandbox.seed_account(Provider::Ebay, "shop-1").access_token;
    let app = ebay_application_token(&http, &sandbox.ebay_base_url()).await;

    // GET with a query string.
    let response = http
        .get(format!(
            "{base}/sell/inventory/v1/inventory_item?limit=2&offset=0"
        ))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        ["href", "inventoryItems", "limit", "size", "total"]
    );
    assert_eq!(body["limit"], 2);
    assert_eq!(body["size"], 2);
    assert_eq!(body["total"], 3);
    assert_eq!(body["inventoryItems"][0]["sku"], "SANDBOX-SKU-1");
    assert_eq!(
        body["inventoryItems"][1]["availability"]["shipToLocationAvailability"]["quantity"],
        3
    );
    let response = http
        .get(format!("{base}/sell/inventory/v1/inventory_item?limit=0"))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["errorId"], 2004);

    // POST with a JSON body: one response per SKU.
    let bulk = format!("{base}/sell/inventory/v1/bulk_get_inventory_item");
    let request = json!({"requests": [{"sku": "SANDBOX-SKU-2"}, {"sku": "NOPE"}]});
    let response = http
        .post(&bulk)
        .bearer_auth(&user)
        .json(&request)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    let responses = body["responses"].as_array().unwrap();
    assert_eq!(responses[0]["statusCode"], 200);
    assert_eq!(responses[0]["inventoryItem"]["sku"], "SANDBOX-SKU-2");
    assert_eq!(responses[1]["statusCode"], 404);
    assert_eq!(responses[1]["sku"], "NOPE");
    assert_eq!(responses[1]["errors"][0]["errorId"], 25710);
    let response = http
        .post(&bulk)
        .bearer_auth(&user)
        .header("content-type", "application/json")
        .body("{\"requests\": []}")
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.0, 400);

    // Invalid, missing and application tokens.
    let response = http
        .post(&bulk)
        .bearer_auth("v^1.1#i^1#not-a-token")
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_ebay_invalid_token(response).await;
    let response = http
        .get(format!("{base}/sell/inventory/v1/inventory_item"))
        .send()
        .await
        .unwrap();
    assert_ebay_invalid_token(response).await;
    let response = http
        .get(format!("{base}/sell/inventory/v1/inventory_item"))
        .bearer_auth(&app)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["errorId"], 1100);
    assert_eq!(body["errors"][0]["message"], "Access denied");
    let response = http
        .get(format!("{base}/sell/account/v1/privilege"))
        .bearer_auth(&app)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Trading: HTTP 200 either way, `Ack` tells.
    let trading = |token: &str| {
        http.post(format!("{base}/ws/api.dll"))
            .header("X-EBAY-API-IAF-TOKEN", token)
            .header("X-EBAY-API-CALL-NAME", "GetUser")
            .header("X-EBAY-API-SITEID", "0")
            .header("X-EBAY-API-COMPATIBILITY-LEVEL", "1271")
            .body("<?xml version=\"1.0\" encoding=\"utf-8\"?><GetUserRequest xmlns=\"urn:ebay:apis:eBLBaseComponents\"/>")
            .send()
    };
    let response = trading(&user).await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("<GetUserResponse") && text.contains("<Ack>Success</Ack>"),
        "{text}"
    );
    let response = trading("expired").await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("<Ack>Failure</Ack>") && text.contains("<ErrorCode>21916984</ErrorCode>"),
        "{text}"
    );

    // 10 API requests; 3 answered "invalid access token" (the unknown token, the
    // missing header, Trading's bad token): the application token's 403 and the 400s
    // are not token rejections.
    let counts = sandbox.counters();
    let ebay = counts.provider(Provider::Ebay);
    assert_eq!(sandbox.api_requests(Provider::Ebay), 10);
    assert_eq!(ebay.api.requests, 10);
    assert_eq!(ebay.api.token_rejected, 3);
    // shop-1's requests: inventory twice, bulk twice, Trading once.
    assert_eq!(ebay.api_accounts["shop-1"].requests, 5);
    assert_eq!(ebay.api_accounts["shop-1"].token_rejected, 0);
    assert_eq!(ebay.api_accounts.len(), 1);
}

/// A signed `/sync` call: `params` plus the common parameters and `sign`; as a query
/// string (`GET`) or a form body (`POST`).
async fn sync(
    sandbox: &Sandbox,
    http: &reqwest::Client,
    post: bool,
    params: &[(&str, &str)],
    tamper: bool,
) -> (u16, Value) {
    let ts = now_ms();
    let mut all: Vec<(&str, &str)> = vec![
        ("app_key", DEFAULT_ALIEXPRESS_APP_KEY),
        ("timestamp", ts.as_str()),
        ("sign_method", "sha256"),
    ];
    all.extend_from_slice(params);
    let mut sign = aliexpress_sign(DEFAULT_ALIEXPRESS_APP_SECRET, None, all.iter().copied());
    if tamper {
        // Signed, then a parameter changed: the signature no longer covers the request.
        sign = aliexpress_sign(
            DEFAULT_ALIEXPRESS_APP_SECRET,
            None,
            all.iter().copied().filter(|(name, _)| *name != "method"),
        );
    }
    all.push(("sign", &sign));
    let url = format!("{}/sync", sandbox.aliexpress_base_url());
    let request = if post {
        http.post(url)
            .header(
                "content-type",
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(form(&all))
    } else {
        http.get(with_query(&url, &all))
    };
    json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn aliexpress_business_calls() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let seeded = sandbox.seed_account(Provider::AliExpress, "shop-1");
    let token = seeded.access_token.as_str();

    let (status, body) = sync(
        &sandbox,
        &http,
        false,
        &[
            ("method", "aliexpress.solution.order.get"),
            ("session", token),
            ("param0", r#"{"page_size":20,"current_page":1}"#),
        ],
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["aliexpress_solution_order_get_response"]);
    let result = &body["aliexpress_solution_order_get_response"]["result"];
    assert_eq!(result["success"], true);
    assert_eq!(result["total_count"], 1);
    assert_eq!(
        result["target_list"]["order_dto"][0]["seller_login_id"],
        "shop-1"
    );
    assert!(body["aliexpress_solution_order_get_response"]["request_id"].is_string());

    // POST form body, token in `access_token`.
    let (status, body) = sync(
        &sandbox,
        &http,
        true,
        &[
            ("method", "aliexpress.solution.product.list.get"),
            ("access_token", token),
            (
                "aeop_a_e_product_list_query",
                r#"{"product_status_type":"onSelling"}"#,
            ),
        ],
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["aliexpress_solution_product_list_get_response"]["result"];
    assert_eq!(result["product_count"], 2);
    assert_eq!(
        result["aeop_a_e_product_display_d_t_o_list"]["item_display_dto"][1]["subject"],
        "Sandbox item two"
    );

    let (status, body) = sync(
        &sandbox,
        &http,
        false,
        &[
            ("method", "aliexpress.solution.seller.info.query"),
            ("session", token),
        ],
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["aliexpress_solution_seller_info_query_response"]["result"];
    assert_eq!(result["login_id"], "shop-1");

    // An invalid token: HTTP 200, IllegalAccessToken in the /sync error shape.
    for post in [false, true] {
        let (status, body) = sync(
            &sandbox,
            &http,
            post,
            &[
                ("method", "aliexpress.solution.order.get"),
                ("session", "50000not-a-token"),
            ],
            false,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(keys(&body), ["error_response"]);
        let error = &body["error_response"];
        assert_eq!(keys(error), ["code", "msg", "request_id", "type"]);
        assert_eq!(error["code"], "IllegalAccessToken");
        assert_eq!(error["type"], "ISV");
    }

    // A wrong signature, with a valid token: IncompleteSignature, not a token rejection.
    let (status, body) = sync(
        &sandbox,
        &http,
        false,
        &[
            ("method", "aliexpress.solution.order.get"),
            ("session", token),
        ],
        true,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["error_response"]["code"], "IncompleteSignature",
        "{body}"
    );
    // An API the sandbox does not serve.
    let (_, body) = sync(
        &sandbox,
        &http,
        false,
        &[("method", "aliexpress.nope"), ("session", token)],
        false,
    )
    .await;
    assert_eq!(body["error_response"]["code"], "InvalidApiName", "{body}");

    let ae = sandbox.counters().provider(Provider::AliExpress).clone();
    assert_eq!(ae.api.requests, 7);
    assert_eq!(ae.api.token_rejected, 2);
    // The signature and API-name failures stop before the token is read.
    assert_eq!(ae.api_accounts["shop-1"].requests, 3);
    assert_eq!(ae.api_accounts["shop-1"].token_rejected, 0);
}

#[tokio::test]
async fn orangeconnex_sku_calls() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.orangeconnex_base_url();
    let key = sandbox
        .credentials()
        .orangeconnex
        .client_key
        .clone()
        .unwrap();
    let token = sandbox
        .seed_account(Provider::OrangeConnex, "shop-1")
        .access_token;
    let creation = format!("{base}/openapi/3pp/sku/v3/creation");

    let response = http
        .post(&creation)
        .header("Access-Token", format!("Bearer {token}"))
        .header("clientKey", &key)
        .json(&json!({"sellerSkuId": "MY-SKU-7", "name": "Blue mug"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["code"], "200");
    assert_eq!(body["data"]["sellerSkuId"], "MY-SKU-7");
    assert!(body["data"]["mfSkuId"].as_str().unwrap().starts_with("OC"));

    let response = http
        .post(&creation)
        .header("Access-Token", format!("Bearer {token}"))
        .header("clientKey", &key)
        .json(&json!({"name": "no sku"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 400);
    assert_eq!(body["success"], false);

    let response = http
        .post(&creation)
        .header(
            "Access-Token",
            "Bearer 00000000-0000-4000-a000-000000000000",
        )
        .header("clientKey", &key)
        .json(&json!({"sellerSkuId": "MY-SKU-7"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"success": false, "code": "401", "message": "Invalid or expired access token"})
    );
    // The token without its `Bearer ` prefix is not accepted either.
    let response = http
        .get(format!("{base}/openapi/3pp/sku/v3/list"))
        .header("Access-Token", &token)
        .header("clientKey", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A missing clientKey: 401 too, but not a token rejection.
    let response = http
        .get(format!("{base}/openapi/3pp/sku/v3/list"))
        .header("Access-Token", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Invalid clientKey");

    let oc = sandbox.counters().provider(Provider::OrangeConnex).clone();
    assert_eq!(oc.api.requests, 5);
    assert_eq!(oc.api.token_rejected, 2);
    assert_eq!(oc.api_accounts["shop-1"].requests, 2);
}

#[tokio::test]
async fn eshopbox_calls() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.eshopbox_base_url();
    let token = sandbox
        .seed_account(Provider::Eshopbox, "shop-1")
        .access_token;

    let response = http
        .get(format!("{base}/api/v1/orders?page=1&perPage=10"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["data", "page", "perPage", "total"]);
    assert_eq!(body["perPage"], 10);
    assert_eq!(body["data"][0]["account"], "shop-1");
    let response = http
        .get(format!("{base}/api/v1/orders?perPage=1000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.0, 400);

    for path in ["/api/v1/me", "/api/v1/orders"] {
        let response = http
            .get(format!("{base}{path}"))
            .bearer_auth("eyJhbGciOiJSUzI1NiJ9.e30.bad")
            .send()
            .await
            .unwrap();
        let (status, body) = json(response).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"})
        );
    }
    assert_eq!(sandbox.api_requests(Provider::Eshopbox), 4);
    let counts = sandbox.counters();
    assert_eq!(counts.provider(Provider::Eshopbox).api.token_rejected, 2);
    // Nothing on the other providers' API counters.
    assert_eq!(sandbox.api_requests(Provider::Ebay), 0);
}

#[tokio::test]
async fn rejecting_one_accounts_access_tokens_then_refreshing() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    for provider in Provider::ALL {
        let one = sandbox.seed_account(provider, "shop-1");
        let two = sandbox.seed_account(provider, "shop-2");
        let (status, body) = admin_post(
            &http,
            base,
            "reject-access-tokens",
            &json!({"provider": provider.path_segment(), "account": "shop-1"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            json!({"provider": provider.path_segment(), "account": "shop-1", "rejected_access_tokens": 1})
        );
        // shop-1's token is refused, shop-2's still works.
        assert!(
            !api_accepts(&http, base, provider, &one.access_token).await,
            "{provider}"
        );
        assert!(
            api_accepts(&http, base, provider, &two.access_token).await,
            "{provider}"
        );
        // The refresh token still works, and its new access token is accepted.
        let refreshed = refresh(&http, base, provider, &one.refresh_token).await;
        assert!(refreshed.ok(), "{provider}: {}", refreshed.body);
        let access = refreshed.body["access_token"].as_str().unwrap();
        assert!(
            api_accepts(&http, base, provider, access).await,
            "{provider}"
        );

        // What a middleware test asserts: two API requests and one refresh.
        let counts = sandbox.counters();
        let c = counts.provider(provider);
        assert_eq!(c.api_accounts["shop-1"].requests, 2, "{provider}");
        assert_eq!(c.api_accounts["shop-1"].token_rejected, 1, "{provider}");
        assert_eq!(c.accounts["shop-1"].refresh_token, 1, "{provider}");
        assert_eq!(c.api_accounts["shop-2"].requests, 1, "{provider}");
        assert_eq!(c.api_accounts["shop-2"].token_rejected, 0, "{provider}");
        assert_eq!(c.api.requests, 3);
        assert_eq!(c.api.token_rejected, 1);

        // Without an account: every access token of the provider.
        let (status, body) = admin_post(
            &http,
            base,
            "reject-access-tokens",
            &json!({"provider": provider.path_segment()}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["account"], Value::Null);
        assert_eq!(body["rejected_access_tokens"], 2, "{provider}");
        assert!(!api_accepts(&http, base, provider, &two.access_token).await);
        assert!(!api_accepts(&http, base, provider, access).await);
        assert_eq!(
            sandbox.counters().provider(provider).api_accounts["shop-2"].token_rejected,
            1
        );
    }
    // The JSON counters carry the same, beside the unchanged token counters.
    let value = counters(&http, base).await;
    let ebay = &value["ebay"];
    assert_eq!(
        keys(ebay),
        [
            "accounts",
            "api",
            "api_accounts",
            "faulted",
            "token_requests",
            "totals"
        ]
    );
    assert_eq!(ebay["api"], json!({"requests": 5, "token_rejected": 3}));
    assert_eq!(
        ebay["api_accounts"]["shop-1"],
        json!({"requests": 3, "token_rejected": 2})
    );
    assert_eq!(ebay["token_requests"], 1);
    // Resetting zeroes the API counters too.
    assert_eq!(
        admin_post(&http, base, "reset-counters", &json!({}))
            .await
            .0,
        204
    );
    let value = counters(&http, base).await;
    assert_eq!(
        value["ebay"]["api"],
        json!({"requests": 0, "token_rejected": 0})
    );
    assert_eq!(value["ebay"]["api_accounts"], json!({}));
}

#[tokio::test]
async fn rejecting_through_the_rust_api() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    let one = sandbox.seed_account(Provider::Eshopbox, "shop-1");
    // The pre-seeded refresh token's account has no access token yet: nothing to reject.
    assert_eq!(
        sandbox.reject_access_tokens(Provider::Eshopbox, Some(oauth_sandbox::DEFAULT_ACCOUNT)),
        0
    );
    assert_eq!(
        sandbox.reject_access_tokens(Provider::Eshopbox, Some("shop-1")),
        1
    );
    assert_eq!(
        sandbox.reject_access_tokens(Provider::Eshopbox, Some("shop-1")),
        0
    );
    assert!(!api_accepts(&http, base, Provider::Eshopbox, &one.access_token).await);
    // Other providers are untouched.
    let ebay = sandbox.seed_account(Provider::Ebay, "shop-1");
    assert_eq!(sandbox.reject_access_tokens(Provider::Eshopbox, None), 0);
    assert!(api_accepts(&http, base, Provider::Ebay, &ebay.access_token).await);
    // `expire_access_tokens` still works, and the requests count under the account.
    sandbox.expire_access_tokens(Provider::Ebay);
    assert!(!api_accepts(&http, base, Provider::Ebay, &ebay.access_token).await);
    assert_eq!(
        sandbox.counters().provider(Provider::Ebay).api_accounts["shop-1"].token_rejected,
        1
    );
}

#[tokio::test]
async fn admin_rejection_refuses_bad_bodies() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    for body in [
        json!({"provider": "nope"}),
        json!({"account": "shop-1"}),
        json!({"provider": "ebay", "account": ""}),
        json!({"provider": "ebay", "account": 7}),
        json!(["ebay"]),
    ] {
        let (status, answer) = admin_post(&http, base, "reject-access-tokens", &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"], "invalid_request", "{body}");
    }
}

#[tokio::test]
async fn persistent_rejection_refuses_tokens_issued_later() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    for provider in Provider::ALL {
        let one = sandbox.seed_account(provider, "shop-1");
        let two = sandbox.seed_account(provider, "shop-2");
        assert_eq!(
            sandbox.reject_access_tokens_persistently(provider, "shop-1"),
            1,
            "{provider}"
        );
        assert!(!api_accepts(&http, base, provider, &one.access_token).await);
        // Refreshing still works, but its access token is refused as well.
        let refreshed = refresh(&http, base, provider, &one.refresh_token).await;
        assert!(refreshed.ok(), "{provider}: {}", refreshed.body);
        let refreshed = refreshed.body["access_token"].as_str().unwrap().to_owned();
        assert!(!api_accepts(&http, base, provider, &refreshed).await);
        // Another account is untouched.
        assert!(api_accepts(&http, base, provider, &two.access_token).await);
        // Until accepted again: the refreshed token works, the first one stays dead.
        assert!(sandbox.accept_access_tokens(provider, "shop-1"));
        assert!(!sandbox.accept_access_tokens(provider, "shop-1"));
        assert!(api_accepts(&http, base, provider, &refreshed).await);
        assert!(!api_accepts(&http, base, provider, &one.access_token).await);
        let api = sandbox.counters().provider(provider).api_accounts["shop-1"];
        assert_eq!((api.requests, api.token_rejected), (4, 3), "{provider}");
    }
}

#[tokio::test]
async fn persistent_rejection_through_the_admin_api() {
    let sandbox = Sandbox::start().await.unwrap();
    let http = client();
    let base = sandbox.base_url();
    let one = sandbox.seed_account(Provider::OrangeConnex, "shop-1");
    let body = json!({"provider": "orangeconnex", "account": "shop-1", "persistent": true});
    let (status, answer) = admin_post(&http, base, "reject-access-tokens", &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"provider": "orangeconnex", "account": "shop-1", "persistent": true, "rejected_access_tokens": 1})
    );
    let refreshed = refresh(&http, base, Provider::OrangeConnex, &one.refresh_token).await;
    let refreshed = refreshed.body["access_token"].as_str().unwrap().to_owned();
    assert!(!api_accepts(&http, base, Provider::OrangeConnex, &refreshed).await);
    for body in [
        json!({"provider": "orangeconnex", "persistent": true}),
        json!({"provider": "orangeconnex", "account": "shop-1", "persistent": "yes"}),
    ] {
        let (status, answer) = admin_post(&http, base, "reject-access-tokens", &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["error"], "invalid_request", "{body}");
    }
}
