//! Queries and changes, as functions taking `&impl ConnectionTrait` so they work on the pool or
//! inside a transaction, and can be tested directly.

pub mod accounts;
pub mod attendance;
pub mod audit;
pub mod bodies;
pub mod contacts;
pub mod documents;
pub mod feeds;
pub mod invitations;
pub mod login_failures;
pub mod meetings;
pub mod outbox;
pub mod reference;
pub mod reminders;
pub mod seating;
pub mod tokens;
pub mod users;
