//! Black-box tests: real HTTP against a server on port 0, and the CLI as a process.

mod admin_ui;
mod app_passwords_api;
mod auth;
mod cli;
mod clients;
mod compat;
mod crash;
mod global_params;
mod helpers;
mod hostile;
mod index;
mod kses;
mod linear_time;
mod media;
mod migrate_store;
mod multi_instance;
mod post_types;
mod postgres;
mod posts;
mod posts_write;
mod revisions;
mod secrets;
mod security;
mod terms;
mod users_api;
