//! The security regression suite: each attack tried on Plenary, kept as a test that failed
//! before its fix and must keep passing after. One module per area; like every suite it runs on
//! SQLite, and on PostgreSQL when `PLENARY_TEST_DATABASE_URL` names a server.
//!
//! - `hostile_text`: every write endpoint and form against control characters, separators,
//!   bidi overrides, very long and mixed-script text: refused naming the field, or stored and
//!   shown intact and safe in every output.
//! - `mail`: a message that cannot be built or makes the worker panic is marked failed and the
//!   rest are delivered.
//! - `accounts`: account ranks, one-time links, redirects after login and login throttling.
//! - `exposure`: what anonymous visitors see (seating plans without names), the API reference
//!   without a CDN, error shapes and secrets kept out of logs.

mod accounts;
mod exposure;
mod hostile_text;
mod mail;
