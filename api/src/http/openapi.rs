//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations, served at
//! `/api/openapi.json` with a browsable reference at `/api/docs`.

use axum::{Json, Router, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        OpenApi as OpenApiDocument,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};
use utoipa_scalar::{Scalar, Servable as _};

use super::AppState;

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
    let json = document.clone();
    Router::new()
        .route("/api/openapi.json", get(move || async move { Json(json) }))
        .merge(Scalar::with_url("/api/docs", document))
}
