//! Typed builders for the test data the suites keep making: meetings, registrations and
//! accounts. Each starts from the values most tests want and says what differs; the result is the
//! JSON body the API takes (to send it anywhere, also to the real binary) or the created thing.

use chrono::{NaiveDate, TimeDelta, Utc};
use plenary::{auth::Role, db::entities::users};
use reqwest::{Method, Response};
use serde_json::{Map, Value, json};

use crate::{TestApp, expect_json};

/// The local date in Vienna `days` days from now (a month ahead, registration is open).
pub fn date_in(days: i64) -> NaiveDate {
    (Utc::now() + TimeDelta::days(days)).date_naive()
}

/// `POST /api/v1/meetings` in the making: a meeting of a body, in Vienna's time zone unless it
/// is [`abroad`](NewMeeting::abroad).
#[derive(Debug, Clone)]
pub struct NewMeeting(Map<String, Value>);

impl NewMeeting {
    /// A meeting of `body` (`PC`, `FSC`, …) in Vienna's time zone; say when with
    /// [`NewMeeting::at`] or [`NewMeeting::on`].
    pub fn of(body: &str) -> Self {
        Self(Map::from_iter([("body".into(), json!(body)), ("time_zone".into(), json!("Europe/Vienna"))]))
    }

    /// From `start` to `end`, local date-times (`2027-03-04T10:00:00`).
    #[must_use]
    pub fn at(self, start: &str, end: &str) -> Self {
        self.with("start", json!(start)).with("end", json!(end))
    }

    /// On a local `date` from `from` to `to` (`"10:00"`).
    #[must_use]
    pub fn on(self, date: impl std::fmt::Display, from: &str, to: &str) -> Self {
        self.at(&format!("{date}T{from}:00"), &format!("{date}T{to}:00"))
    }

    /// In a Hofburg room (`HOFBURG-RATSAAL`, …).
    #[must_use]
    pub fn room(self, room: &str) -> Self {
        self.with("room", json!(room))
    }

    /// Away from Vienna: in `zone`, in `city` of `country`, which also hosts it.
    #[must_use]
    pub fn abroad(self, zone: &str, city: &str, country: &str) -> Self {
        self.with("time_zone", json!(zone))
            .with("city", json!(city))
            .with("country", json!(country))
            .with("host", json!(country))
    }

    /// Created despite a clash with another meeting.
    #[must_use]
    pub fn forced(self) -> Self {
        self.with("force", json!(true))
    }

    /// Any other field, or another value for one already set.
    #[must_use]
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.0.insert(field.into(), value);
        self
    }

    /// Every field of `extra` (an object), added or replacing.
    #[must_use]
    pub fn with_all(mut self, extra: Value) -> Self {
        let Value::Object(extra) = extra else { panic!("not a JSON object: {extra}") };
        self.0.extend(extra);
        self
    }

    /// The request body.
    pub fn json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// Posts it as `token`'s bearer and returns the response, whatever it is.
    pub async fn post(&self, app: &TestApp, token: &str) -> Response {
        app.send(Method::POST, "/api/v1/meetings", token, self.json()).await
    }

    /// Creates it: the meeting as the API answers it.
    ///
    /// # Panics
    /// When the answer is not 201.
    pub async fn create(&self, app: &TestApp, token: &str) -> Value {
        expect_json(self.post(app, token).await, 201).await
    }

    /// Creates it and returns its id.
    ///
    /// # Panics
    /// When the answer is not 201.
    pub async fn create_id(&self, app: &TestApp, token: &str) -> i64 {
        self.create(app, token).await["id"].as_i64().expect("a meeting id")
    }
}

/// A registration body for `POST /api/v1/meetings/{id}/registrations`: a person of a delegation,
/// with an address made from their name (`anna.huber@at.example.org`).
#[derive(Debug, Clone)]
pub struct NewRegistration(Map<String, Value>);

impl NewRegistration {
    /// `name` of `state` (ISO 2), seated `seat` (`main` or `behind`), with the function `function`.
    pub fn of(state: &str, name: &str, function: &str, seat: &str) -> Self {
        let email = format!("{}@{}.example.org", name.to_lowercase().replace(' ', "."), state.to_lowercase());
        Self(Map::from_iter([
            ("state".into(), json!(state)),
            ("name".into(), json!(name)),
            ("function".into(), json!(function)),
            ("email".into(), json!(email)),
            ("seat".into(), json!(seat)),
        ]))
    }

    /// Any other field, or another value for one already set.
    #[must_use]
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.0.insert(field.into(), value);
        self
    }

    /// The request body.
    pub fn json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// Registers it for `meeting` as `token`'s bearer and returns the response.
    pub async fn post(&self, app: &TestApp, token: &str, meeting: i64) -> Response {
        app.send(Method::POST, &format!("/api/v1/meetings/{meeting}/registrations"), token, self.json()).await
    }
}

/// A user account, stored directly (setting up, not under test).
#[derive(Debug, Clone)]
pub struct NewAccount {
    username: String,
    display_name: String,
    role: Role,
    state: Option<String>,
}

impl NewAccount {
    /// An organiser called `display_name` who logs in as `username`.
    pub fn organiser(username: &str, display_name: &str) -> Self {
        Self::with_role(username, display_name, Role::Organiser)
    }

    /// A member of `state`'s delegation (ISO 2).
    pub fn delegation(username: &str, display_name: &str, state: &str) -> Self {
        Self { state: Some(state.into()), ..Self::with_role(username, display_name, Role::Delegation) }
    }

    /// An account with any `role` (with [`NewAccount::of_state`] for a delegation's).
    pub fn with_role(username: &str, display_name: &str, role: Role) -> Self {
        Self { username: username.into(), display_name: display_name.into(), role, state: None }
    }

    /// Belonging to `state` (ISO 2), or to none.
    #[must_use]
    pub fn of_state(self, state: Option<&str>) -> Self {
        Self { state: state.map(str::to_owned), ..self }
    }

    /// Stores it, without a password.
    ///
    /// # Panics
    /// When the database refuses it.
    pub async fn create(&self, app: &TestApp) -> users::Model {
        plenary::store::accounts::create_user(
            &app.state.db,
            &self.username,
            &self.display_name,
            self.role,
            self.state.as_deref(),
        )
        .await
        .expect("create a user")
    }

    /// Stores it with `password` set through a one-time link, as its owner would.
    ///
    /// # Panics
    /// When the database refuses it.
    pub async fn create_with_password(&self, app: &TestApp, password: &str) -> users::Model {
        let db = &app.state.db;
        let user = self.create(app).await;
        let link = plenary::store::accounts::create_password_link(db, user.id, Utc::now()).await.unwrap();
        let hash = plenary::auth::hash_password(password).unwrap();
        assert!(plenary::store::accounts::use_password_link(db, &link, &hash, Utc::now()).await.unwrap());
        user
    }

    /// Stores it and logs it in: the `Cookie` header value of its session.
    ///
    /// # Panics
    /// When the database refuses it.
    pub async fn session_cookie(&self, app: &TestApp) -> String {
        let user = self.create(app).await;
        let (secret, _) = plenary::store::accounts::create_session(&app.state.db, user.id, Utc::now()).await.unwrap();
        format!("plenary_session={secret}")
    }
}
