//! Static files (CSS, JavaScript, icons) embedded in the binary and served at `/static/*`.
//!
//! Pages link them with `?v=<version>`, a digest of every file, so browsers may keep them for a
//! day and still see a new release at once; `ETag` answers revalidation with 304.

use std::sync::OnceLock;

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use rust_embed::RustEmbed;
use sha2::{Digest as _, Sha256};

use super::params::PagePath;
use crate::app::AppState;

#[derive(RustEmbed)]
#[folder = "../frontend/static"]
struct Static;

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(static_file))
}

/// A short digest of every static file, to put in their links.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut digest = Sha256::new();
        let mut names: Vec<_> = Static::iter().collect();
        names.sort();
        for name in names {
            if let Some(file) = Static::get(&name) {
                digest.update(name.as_bytes());
                digest.update(file.metadata.sha256_hash());
            }
        }
        digest.finalize().iter().take(6).map(|byte| format!("{byte:02x}")).collect()
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn static_file(PagePath(path): PagePath<String>, headers: HeaderMap) -> Response {
    let Some(file) = Static::get(&path) else {
        return (StatusCode::NOT_FOUND, "There is no such file.").into_response();
    };
    let etag: String = format!(
        "\"{}\"",
        file.metadata.sha256_hash().iter().take(12).map(|byte| format!("{byte:02x}")).collect::<String>()
    );
    let cache = HeaderValue::from_static("public, max-age=86400");
    let etag_value = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    if headers.get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)])
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type(&path))),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        file.data.into_owned(),
    )
        .into_response()
}
