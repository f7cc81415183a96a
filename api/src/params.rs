//! What was wrong with a request's path parameters, read from axum's rejection: shared by the
//! JSON edge (`http::extract::ApiPath`, a 400 in the error shape) and the pages
//! (`web::params::PagePath`, the error page in words), which each word it their own way.

use axum::{
    extract::{FromRequestParts, RawPathParams, path::ErrorKind, rejection::PathRejection},
    http::request::Parts,
};

/// Why a path parameter was refused, naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathProblem {
    /// The parameter as the route names it (`id`), or `None` when the route has none to name.
    pub name: Option<String>,
    /// What it was given, percent-decoded, when that is known.
    pub value: Option<String>,
    /// What it must be ("a whole number"), or why it cannot be read.
    pub expected: String,
}

impl PathProblem {
    /// The problem behind `rejection`, with the parameter's name looked up in the route's
    /// parameters when the rejection gives only its position (or nothing, for a single one).
    pub async fn of<S: Send + Sync>(parts: &mut Parts, state: &S, rejection: PathRejection) -> Self {
        let names: Vec<String> = RawPathParams::from_request_parts(parts, state)
            .await
            .map(|params| params.iter().map(|(name, _)| name.to_owned()).collect())
            .unwrap_or_default();
        let PathRejection::FailedToDeserializePathParams(error) = rejection else {
            return Self { name: None, value: None, expected: rejection.body_text() };
        };
        match error.into_kind() {
            ErrorKind::ParseError { value, expected_type } => {
                Self { name: names.first().cloned(), value: Some(value), expected: describe_type(expected_type) }
            }
            ErrorKind::ParseErrorAtIndex { index, value, expected_type } => {
                Self { name: names.get(index).cloned(), value: Some(value), expected: describe_type(expected_type) }
            }
            ErrorKind::ParseErrorAtKey { key, value, expected_type } => {
                Self { name: Some(key), value: Some(value), expected: describe_type(expected_type) }
            }
            ErrorKind::DeserializeError { key, value, message } => {
                Self { name: Some(key), value: Some(value), expected: message }
            }
            ErrorKind::InvalidUtf8InPathParam { key } => {
                Self { name: Some(key), value: None, expected: "valid UTF-8 text".to_owned() }
            }
            other => Self { name: None, value: None, expected: other.to_string() },
        }
    }
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.name, &self.value) {
            (Some(name), Some(value)) => write!(f, "path parameter `{name}` must be {}, got {value:?}", self.expected),
            (Some(name), None) => write!(f, "path parameter `{name}` must be {}", self.expected),
            (None, _) => write!(f, "this address's parameters cannot be read: {}", self.expected),
        }
    }
}

/// A Rust type name as a person would say what is expected.
fn describe_type(expected_type: &str) -> String {
    match expected_type.rsplit("::").next().unwrap_or(expected_type) {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, zero or more".to_owned(),
        "bool" => "`true` or `false`".to_owned(),
        "String" | "str" | "char" => "text".to_owned(),
        other => format!("a value of type {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_problem_names_the_parameter_and_what_it_must_be() {
        let problem =
            PathProblem { name: Some("id".into()), value: Some("abc".into()), expected: describe_type("i32") };
        assert_eq!(problem.to_string(), "path parameter `id` must be a whole number, got \"abc\"");
        assert_eq!(describe_type("u64"), "a whole number, zero or more");
        assert_eq!(describe_type("alloc::string::String"), "text");
    }
}
