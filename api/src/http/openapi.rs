//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations, served at
//! `/api/openapi.json` with a browsable reference at `/api/docs`.
//!
//! The reference is Swagger UI 5.32.6, vendored under `frontend/static/vendor/swagger-ui-5.32.6`
//! (see the README there) and served from the binary with the other static files: it works
//! without internet access, runs no script from anywhere else, and its page carries a
//! Content-Security-Policy that allows only same-origin scripts (the UI is started by
//! `/static/api-docs.js`, a file, not an inline script). The `<script>` and `<link>` tags carry
//! subresource-integrity hashes of the reviewed files.

use std::sync::OnceLock;

use axum::{
    Json, Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest as _, Sha256};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        OpenApi as OpenApiDocument,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::app::AppState;

/// Where the vendored files are served (the version is in the path, so a cached copy is never
/// the wrong version for its integrity hash).
const VENDOR: &str = "/static/vendor/swagger-ui-5.32.6";

/// Subresource-integrity hashes of the vendored files, as recorded in their README.
const BUNDLE_INTEGRITY: &str = "sha384-EYdOaiRwn44zNjrw+Tfs06qYz9BGQVo2f4/pLY5i7VorbjnZNhdplAbTBk8FXHUJ";
const CSS_INTEGRITY: &str = "sha384-9Q2fpS+xeS4ffJy6CagnwoUl+4ldAYhOs9pgZuEKxypVModhmZFzeMlvVsAjf7uT";

/// The page's own script, which starts Swagger UI with the spec's address from a data attribute.
const STARTER: &str = include_str!("../../../frontend/static/api-docs.js");

/// Scripts only from this server (no inline script, no `eval`), and nothing fetched from
/// anywhere else. Swagger UI sets `style` attributes and inline SVG icons, hence the inline
/// styles and `data:` images; neither can run code.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'none'; \
    frame-ancestors 'none'; base-uri 'none'";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plenary",
        description = "Meetings of the OSCE and its Partners for Co-operation: planning, invitations, attendance, seating and calendar feeds."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "reference", description = "States, Partners, Chairmanships and bodies (public)"),
        (name = "meetings", description = "Planning, meetings and their changes"),
        (name = "seating", description = "Seating plans, the lot per body and year, seating rules"),
        (name = "feeds", description = "Calendar subscriptions: secret iCalendar URLs per delegation, body or everything"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("plt_…").build()),
        );
    }
}

pub fn base() -> OpenApiDocument {
    ApiDoc::openapi()
}

pub fn router(document: OpenApiDocument) -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(move || async move { Json(document) }))
        .route("/api/docs", get(docs_page))
}

/// The reference's page: the vendored stylesheet and bundle with their integrity hashes, the
/// starter script (linked with a digest of its text, so a changed starter is never served from a
/// stale cache), and the spec's address in a data attribute.
async fn docs_page() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let html = PAGE.get_or_init(|| {
        let starter: String = Sha256::digest(STARTER).iter().take(6).map(|byte| format!("{byte:02x}")).collect();
        format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plenary API reference</title>
<link rel="stylesheet" href="{VENDOR}/swagger-ui.css" integrity="{CSS_INTEGRITY}">
</head>
<body>
<div id="swagger-ui" data-spec-url="/api/openapi.json"></div>
<script src="{VENDOR}/swagger-ui-bundle.js" integrity="{BUNDLE_INTEGRITY}"></script>
<script src="/static/api-docs.js?v={starter}"></script>
</body>
</html>
"#
        )
    });
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        html.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use sha2::Sha384;

    use super::*;

    fn integrity(data: &[u8]) -> String {
        format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(data)))
    }

    #[test]
    fn the_integrity_hashes_are_those_of_the_vendored_files() {
        let vendored = |file| std::fs::read(format!("../frontend{VENDOR}/{file}")).expect("the vendored file is there");
        assert_eq!(integrity(&vendored("swagger-ui-bundle.js")), BUNDLE_INTEGRITY);
        assert_eq!(integrity(&vendored("swagger-ui.css")), CSS_INTEGRITY);
    }
}
