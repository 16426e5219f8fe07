//! What the vault writes: sealed text (`v1.<iv>.<ciphertext>`, base64url) and the key
//! record that holds the user's data secret wrapped by their password (and by the
//! server's escrow, for a password changed on CARE). Pure: the WebCrypto side is in
//! `crypto.rs`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};

use super::VaultError;

/// Version tag of sealed text.
pub const PREFIX: &str = "v1.";
/// AES-GCM's nonce length.
pub const IV_LEN: usize = 12;
/// Length of the random data secret (and of the password salt's double).
pub const SECRET_LEN: usize = 32;
pub const SALT_LEN: usize = 16;
/// PBKDF2-SHA-256 rounds (OWASP's 2023 figure); kept in each record so it can grow.
pub const PASSWORD_ITERATIONS: u32 = 600_000;

/// One sealed value: a fresh IV and AES-GCM's output (ciphertext + tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub iv: Vec<u8>,
    pub data: Vec<u8>,
}

impl Sealed {
    pub fn to_text(&self) -> String {
        format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(&self.iv),
            URL_SAFE_NO_PAD.encode(&self.data)
        )
    }

    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let damaged = || VaultError::Damaged("not a sealed record".into());
        let rest = text.strip_prefix(PREFIX).ok_or_else(damaged)?;
        let (iv, data) = rest.split_once('.').ok_or_else(damaged)?;
        let iv = URL_SAFE_NO_PAD.decode(iv).map_err(|_| damaged())?;
        let data = URL_SAFE_NO_PAD.decode(data).map_err(|_| damaged())?;
        // The tag alone is 16 bytes.
        if iv.len() != IV_LEN || data.len() < 16 {
            return Err(damaged());
        }
        Ok(Self { iv, data })
    }
}

/// Whether stored text is sealed (anything else was written before the vault existed).
pub fn is_sealed(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// The additional data a record is sealed with: it binds the ciphertext to where it is
/// stored, so a record moved to another key (or another user's record) does not open.
pub fn record_aad(store: &str, id: &str) -> Vec<u8> {
    format!("care-offline:{store}:{id}").into_bytes()
}

/// The additional data of a user's wrapped secret.
pub fn secret_aad(user_id: &str, by: &str) -> Vec<u8> {
    format!("care-offline-vault:{user_id}:{by}").into_bytes()
}

/// Per user and device: the data secret sealed by a key derived from the password, and by
/// the escrow key the server hands out with a successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    /// The user id (the key path).
    pub user: String,
    /// base64url salt of the password derivation.
    pub salt: String,
    pub iterations: u32,
    /// The secret, sealed by the password key.
    pub by_password: String,
    /// The secret, sealed by the server's escrow key for this user (absent when the server
    /// gave none).
    #[serde(default)]
    pub by_escrow: Option<String>,
    pub created_at: i64,
    #[serde(default)]
    pub rewrapped_at: Option<i64>,
}

impl KeyRecord {
    pub fn salt_bytes(&self) -> Result<Vec<u8>, VaultError> {
        URL_SAFE_NO_PAD
            .decode(&self.salt)
            .map_err(|_| VaultError::Damaged("the key record's salt".into()))
    }
}

pub fn encode_bytes(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode_bytes(text: &str) -> Result<Vec<u8>, VaultError> {
    URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| VaultError::Damaged("not base64url".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sealed_text_round_trips_and_names_its_version() {
        let s = Sealed {
            iv: vec![7; IV_LEN],
            data: (0..40).collect(),
        };
        let text = s.to_text();
        assert!(text.starts_with("v1."));
        assert!(is_sealed(&text));
        assert_eq!(Sealed::parse(&text).expect("parse"), s);
    }

    #[test]
    fn damaged_or_plain_text_is_refused() {
        for bad in [
            "",
            "{\"name\":\"Asha\"}",
            "v1.",
            "v1.abc",
            "v1.!!.??",
            "v2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(Sealed::parse(bad).is_err(), "{bad:?} parsed");
        }
        // A short IV or a body without room for the tag.
        let short = Sealed {
            iv: vec![1; 8],
            data: vec![0; 20],
        };
        assert!(Sealed::parse(&short.to_text()).is_err());
        let no_tag = Sealed {
            iv: vec![1; IV_LEN],
            data: vec![0; 10],
        };
        assert!(Sealed::parse(&no_tag.to_text()).is_err());
        assert!(!is_sealed("{\"v1.\":1}"));
    }

    #[test]
    fn additional_data_differs_by_place_and_user() {
        assert_ne!(record_aad("outbox", "a"), record_aad("queries", "a"));
        assert_ne!(record_aad("outbox", "a"), record_aad("outbox", "b"));
        assert_ne!(secret_aad("u1", "password"), secret_aad("u2", "password"));
        assert_ne!(secret_aad("u1", "password"), secret_aad("u1", "escrow"));
    }

    #[test]
    fn a_key_record_keeps_its_shape() {
        let r = KeyRecord {
            user: "u1".into(),
            salt: encode_bytes(&[1; SALT_LEN]),
            iterations: PASSWORD_ITERATIONS,
            by_password: "v1.x.y".into(),
            by_escrow: None,
            created_at: 5,
            rewrapped_at: None,
        };
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["byPassword"], "v1.x.y");
        let back: KeyRecord = serde_json::from_value(json).expect("back");
        assert_eq!(back, r);
        assert_eq!(back.salt_bytes().expect("salt"), vec![1; SALT_LEN]);
    }

    proptest! {
        #[test]
        fn any_sealed_value_parses_back(iv in proptest::collection::vec(any::<u8>(), IV_LEN), data in proptest::collection::vec(any::<u8>(), 16..200)) {
            let s = Sealed { iv, data };
            prop_assert_eq!(Sealed::parse(&s.to_text()).expect("parse"), s);
        }
    }
}
