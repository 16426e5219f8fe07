//! The vault: what the app keeps on the device for a user — cached queries, queued writes
//! (payload, base, conflict copy, CARE's answer), questionnaire drafts and code
//! favourites — is sealed with AES-GCM under keys only that user's password (or, after a
//! password change, the server's escrow at an online sign-in) opens. Lookup ids are HMACs,
//! so not even a cache key names a patient.
//!
//! The vault is open while someone works, locked after a period untouched (or by the Lock
//! button), and forgotten on the device at sign-out. Locked, nothing of the user is read
//! or written; unlocking needs the password and works offline.

pub mod envelope;
pub mod idle;
pub mod state;

#[cfg(feature = "hydrate")]
pub mod crypto;
#[cfg(feature = "hydrate")]
pub mod keystore;
#[cfg(feature = "hydrate")]
pub mod unlock;

pub use state::{provide_vault, use_vault, Vault, VaultState};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("that password does not open this device's data")]
    WrongKey,
    #[error(
        "this device has not protected your data yet: connect to the internet once and unlock"
    )]
    NoVault,
    #[error(
        "your password was changed in CARE and the server could not confirm it for the data \
         saved on this device; ask your administrator"
    )]
    PasswordChanged,
    #[error("a saved record is damaged: {0}")]
    Damaged(String),
    #[error("this browser cannot protect data on the device: {0}")]
    Unavailable(String),
}
