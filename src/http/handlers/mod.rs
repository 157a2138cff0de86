//! Thin handlers: parse, ask the domain, shape the answer. Which path goes where is in
//! `routes`, nowhere else.

pub mod admin;
pub mod health;
pub mod protocol;
pub mod publish;
pub mod sumdb;
pub mod ui;
pub mod ui_admin;
