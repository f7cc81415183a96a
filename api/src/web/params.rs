//! The pages' own path and query extractors: a parameter that does not parse (a hand-edited
//! address such as `/organiser/accounts/abc/link`) is answered with the error page in words,
//! naming the parameter, instead of axum's plain-text rejection.

use axum::{
    extract::{FromRequestParts, Path, Query},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::WebError;
use crate::params::PathProblem;

/// `axum::extract::Path` for pages.
pub struct PagePath<T>(pub T);

impl<T, S> FromRequestParts<S> for PagePath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(WebError::BadRequest(in_words(&PathProblem::of(parts, state, rejection).await))),
        }
    }
}

/// What a person reads about a path parameter that does not parse.
fn in_words(problem: &PathProblem) -> String {
    match (&problem.name, &problem.value) {
        (Some(name), Some(value)) => {
            format!("The {name} in this address must be {}, but it is “{value}”.", problem.expected)
        }
        (Some(name), None) => format!("The {name} in this address must be {}.", problem.expected),
        (None, _) => format!("This address cannot be read: {}.", problem.expected),
    }
}

/// `axum::extract::Query` for pages.
pub struct PageQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for PageQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri).map(|Query(value)| Self(value)).map_err(|rejection| {
            WebError::BadRequest(format!(
                "The part of this address after “?” cannot be read: {}.",
                rejection.body_text().trim_start_matches("Failed to deserialize query string: ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_parameter_is_named_in_words() {
        let problem =
            PathProblem { name: Some("id".into()), value: Some("abc".into()), expected: "a whole number".into() };
        assert_eq!(in_words(&problem), "The id in this address must be a whole number, but it is “abc”.");
    }
}
