//! One signed IOP call: the common parameters, the signature, and where
//! each parameter goes on the wire.
//!
//! This is the only place that decides the layout. We follow the official
//! Java SDK: the common parameters (`app_key`, `timestamp`, `sign_method`,
//! `partner_id`, `method` for business APIs, and `sign`) go in the query
//! string; the call's own parameters (the code, the refresh token, the
//! access token, the API's arguments) go in a form body, which keeps secrets
//! out of URLs. The signature covers both sets. (The Python and PHP SDKs
//! post everything to `/rest` with `method=`; the platform accepts both, and
//! switching means changing [`Layout`] handling here only.)

use crate::config::AliExpress;
use crate::sign::{ApiKind, SIGN_METHOD};
use oauth_core::transport::ParamValue;
use oauth_core::url::Url;
use oauth_core::{Endpoints, Error, Params, to_unix_millis};
use std::time::SystemTime;

/// Where the call's own parameters go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Common parameters in the query, own parameters in a form body.
    QueryAndForm,
    /// Everything in the query (for requests whose body we cannot touch).
    QueryOnly,
}

/// The `Content-Type` of the form body of IOP calls.
pub const FORM_CONTENT_TYPE_UTF8: &str = "application/x-www-form-urlencoded;charset=UTF-8";

/// A signed call, ready to be laid on a gateway URL: the query parameters
/// (signature last) and the form body parameters.
#[derive(Debug, Clone)]
pub(crate) struct SignedCall {
    pub(crate) query: Params,
    pub(crate) body: Params,
}

/// `url` with `query` appended (form-encoded, like the token requests of
/// `oauth-core`). It then carries the signature: never log it.
pub(crate) fn with_query(mut url: Url, query: &Params) -> Url {
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query.iter() {
            pairs.append_pair(name, value.expose());
        }
    }
    url
}

/// The gateway URL of `api_name`: the system gateway (the client's token
/// endpoint, `<base>/rest`) with the API path appended for system APIs,
/// the business gateway (`<base>/sync`) for business APIs.
pub(crate) fn gateway_url(endpoints: &Endpoints, api_name: &str) -> Result<Url, Error> {
    match ApiKind::of(api_name) {
        ApiKind::System => {
            let mut url = endpoints.token().clone();
            let path = format!("{}{api_name}", url.path().trim_end_matches('/'));
            url.set_path(&path);
            Ok(url)
        }
        ApiKind::Business => endpoints
            .api()
            .cloned()
            .ok_or_else(|| Error::configuration("the AliExpress business gateway is not known")),
    }
}

fn sorted_non_empty(params: Vec<(String, ParamValue)>) -> Vec<(String, ParamValue)> {
    let mut params: Vec<(String, ParamValue)> = params
        .into_iter()
        .filter(|(_, value)| !value.expose().is_empty())
        .collect();
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    params
}

impl AliExpress {
    /// The common parameters of every call made at `now`, sorted by name.
    fn common_params(&self, api_name: &str, now: SystemTime) -> Vec<(String, ParamValue)> {
        let mut common = vec![(
            "app_key".to_owned(),
            ParamValue::Plain(self.app_key().as_str().to_owned()),
        )];
        if ApiKind::of(api_name) == ApiKind::Business {
            common.push(("method".to_owned(), ParamValue::Plain(api_name.to_owned())));
        }
        if let Some(partner_id) = self.partner_id_tag() {
            common.push((
                "partner_id".to_owned(),
                ParamValue::Plain(partner_id.to_owned()),
            ));
        }
        common.push((
            "sign_method".to_owned(),
            ParamValue::Plain(SIGN_METHOD.to_owned()),
        ));
        common.push((
            "timestamp".to_owned(),
            ParamValue::Plain(to_unix_millis(now).to_string()),
        ));
        sorted_non_empty(common)
    }

    /// Signs a call of `api_name` made at `now` with its own parameters
    /// `own` (names not clashing with the common ones; empty values are
    /// dropped, neither sent nor signed) and lays it out.
    ///
    /// # Errors
    /// [`Error::Configuration`] only for settings that
    /// [`validate`](oauth_core::Provider::validate) refuses (no signer).
    pub(crate) fn signed_call(
        &self,
        api_name: &str,
        own: Vec<(String, ParamValue)>,
        layout: Layout,
        now: SystemTime,
    ) -> Result<SignedCall, Error> {
        let common = self.common_params(api_name, now);
        let own = sorted_non_empty(own);
        let sign = self.checked_signer()?.sign(
            api_name,
            common
                .iter()
                .chain(own.iter())
                .map(|(name, value)| (name.as_str(), value.expose())),
        );
        let mut query = Params::new();
        let mut body = Params::new();
        let (in_query, in_body): (Vec<_>, Vec<_>) = match layout {
            Layout::QueryAndForm => (common, own),
            Layout::QueryOnly => (
                sorted_non_empty(common.into_iter().chain(own).collect()),
                Vec::new(),
            ),
        };
        for (name, value) in in_query {
            query.push(name, value);
        }
        query = query.secret("sign", sign.expose_secret());
        for (name, value) in in_body {
            body.push(name, value);
        }
        Ok(SignedCall { query, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_core::{AppSecret, Environment, from_unix_millis};

    const NOW_MS: u64 = 1_517_820_392_000;

    fn settings() -> AliExpress {
        AliExpress::new("12345678", AppSecret::new("helloworld"))
            .redirect_uri("https://app.example/cb")
    }

    fn endpoints() -> Endpoints {
        AliExpress::endpoints_in(&Environment::Production).unwrap()
    }

    fn names(params: &Params) -> Vec<String> {
        params.iter().map(|(n, _)| n.to_owned()).collect()
    }

    #[test]
    fn token_create_layout_matches_the_published_vector() {
        let call = settings()
            .signed_call(
                "/auth/token/create",
                vec![
                    ("uuid".into(), ParamValue::Plain(String::new())),
                    (
                        "code".into(),
                        ParamValue::Plain("3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26".into()),
                    ),
                ],
                Layout::QueryAndForm,
                from_unix_millis(NOW_MS),
            )
            .unwrap();
        let url = gateway_url(&endpoints(), "/auth/token/create").unwrap();
        assert_eq!(
            with_query(url, &call.query).as_str(),
            "https://api-sg.aliexpress.com/rest/auth/token/create?app_key=12345678&sign_method=sha256&timestamp=1517820392000&sign=35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81"
        );
        assert_eq!(
            call.body.to_form_urlencoded(),
            "code=3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26"
        );
    }

    #[test]
    fn business_calls_carry_method_and_partner_id() {
        let call = settings()
            .partner_id("sdk-x")
            .signed_call(
                "aliexpress.solution.order.get",
                vec![("session".into(), ParamValue::Plain("t".into()))],
                Layout::QueryOnly,
                from_unix_millis(NOW_MS),
            )
            .unwrap();
        assert_eq!(
            gateway_url(&endpoints(), "aliexpress.solution.order.get")
                .unwrap()
                .as_str(),
            "https://api-sg.aliexpress.com/sync"
        );
        assert_eq!(
            names(&call.query),
            [
                "app_key",
                "method",
                "partner_id",
                "session",
                "sign_method",
                "timestamp",
                "sign"
            ]
        );
        assert!(call.body.is_empty());
    }
}
