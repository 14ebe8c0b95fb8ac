//! `DELETE /api/v1/admin/groups?<label>=<value>&…` (admin API): delete every
//! group whose grouping key has all the given labels, e.g. every group of a
//! job, in one request. Pushgate only; the Go server deletes by exact key.

use crate::api::json::push_sorted_object;
use crate::api::{cors_headers, envelope};
use crate::expfmt::escape::NameValidation;
use crate::http::request::Head;
use crate::http::response::Response;
use crate::http::router::percent_decode;
use crate::http::Error;
use crate::runtime::Core;

/// Parses `a=b&c=d` (query decoding: `+` is a space); names are valid under
/// `names` (any UTF-8 with `--push.enable-utf8-names`).
fn query_pairs(query: &str, names: NameValidation) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (n, v) = part.split_once('=').unwrap_or((part, ""));
        let decode = |s: &str| {
            percent_decode(s.replace('+', " ").as_bytes())
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| format!("query parameter {s:?} is not valid percent-encoded UTF-8"))
        };
        let (n, v) = (decode(n)?, decode(v)?);
        if !names.is_valid_label_name(n.as_bytes()) {
            return Err(format!("{n:?} is not a label name"));
        }
        out.push((n, v));
    }
    if out.is_empty() {
        return Err("give at least one label, e.g. ?job=nightly (PUT /api/v1/admin/wipe deletes everything)"
            .to_owned());
    }
    Ok(out)
}

/// Deletes the matching groups and answers how many.
pub async fn handle(core: &Core, head: &Head) -> Response {
    let query = head.target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let labels = match query_pairs(query, core.shared.config.name_validation) {
        Ok(l) => l,
        Err(e) => return Response::error(400, &e),
    };
    let Some(n) = core.delete_matching(labels).await else {
        return Error::Unavailable.response();
    };
    let mut data = String::new();
    push_sorted_object(&mut data, [("deleted", n.to_string())]);
    cors_headers(Response {
        status: 200,
        headers: vec![("Content-Type", "application/json".to_owned())],
        body: envelope(&data).into_bytes(),
        pieces: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_needs_label_names_and_at_least_one() {
        let legacy = NameValidation::Legacy;
        assert_eq!(
            query_pairs("job=a+b&instance=x%2Fy", legacy).unwrap(),
            [("job".to_owned(), "a b".to_owned()), ("instance".to_owned(), "x/y".to_owned())]
        );
        assert!(query_pairs("", legacy).is_err());
        assert!(query_pairs("a-b=1", legacy).is_err());
        let utf8 = query_pairs("a.b=1", NameValidation::Utf8).unwrap();
        assert_eq!(utf8, [("a.b".to_owned(), "1".to_owned())]);
    }
}
