//! ferropress: the WordPress REST API, with first-class Application Passwords, in one binary.

pub mod admin;
pub mod application_passwords;
pub mod auth;
pub mod backup;
pub mod cache;
pub mod caps;
pub mod cli;
pub mod config;
pub mod error;
pub mod formatting;
pub mod health;
pub mod import;
pub mod kses;
pub mod media;
pub mod metrics;
pub mod post_types;
pub mod rest;
pub mod search;
pub mod server;
pub mod site;
pub mod store;
pub mod tls;
pub mod users;
pub mod work;
pub mod wxr;
pub mod xmlrpc;
