//! The Plenary service: configuration, database, HTTP API, web pages, mail, feeds and the CLI.
//!
//! Data flows one way: a request (HTTP or CLI) loads what it needs through `store`, asks the
//! pure `scheduler` crate to decide, stores the outcome and answers. `main.rs` only calls
//! [`cli::run`].

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod documents;
pub mod feeds;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod params;
pub mod service;
pub mod shutdown;
pub mod store;
pub mod transfer;
pub mod validate;
pub mod web;
