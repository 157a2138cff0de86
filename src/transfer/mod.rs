//! Offline transfer.
