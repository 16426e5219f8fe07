//! Sealing of stored answers at rest: CARE's answers the proxy keeps for idempotency hold
//! patient data, so they are written AES-256-GCM sealed (a random nonce each, the row's
//! user and key as additional data) under a key derived from the server's secret.

use ring::{
    aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    rand::{SecureRandom, SystemRandom},
};

#[derive(Clone)]
pub struct AtRest {
    key: std::sync::Arc<LessSafeKey>,
    rng: SystemRandom,
}

impl AtRest {
    pub fn new(key: [u8; 32]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, &key).expect("a 32-byte AES-256 key");
        Self {
            key: std::sync::Arc::new(LessSafeKey::new(unbound)),
            rng: SystemRandom::new(),
        }
    }

    pub fn from_secret(secret: &crate::secret::ServerSecret) -> Self {
        Self::new(secret.derive("idempotency answers at rest v1"))
    }

    /// `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out,
            )
            .ok()?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        Some(sealed)
    }

    /// `None` for another key, other additional data or a changed byte.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// The additional data of one stored answer.
pub fn answer_aad(user: &str, key: &str) -> Vec<u8> {
    format!("proxy-idempotency:{user}:{key}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_answers_open_only_with_their_key_and_place() {
        let a = AtRest::new([1; 32]);
        let aad = answer_aad("u1", "k1");
        let sealed = a.seal(&aad, b"{\"name\":\"Asha\"}").expect("seal");
        assert!(!sealed.windows(4).any(|w| w == b"Asha"), "no clear text");
        assert_eq!(
            a.open(&aad, &sealed).as_deref(),
            Some(&b"{\"name\":\"Asha\"}"[..])
        );
        assert_eq!(
            a.open(&answer_aad("u2", "k1"), &sealed),
            None,
            "another row"
        );
        assert_eq!(
            AtRest::new([2; 32]).open(&aad, &sealed),
            None,
            "another key"
        );
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(a.open(&aad, &flipped), None, "a changed byte");
        assert_ne!(
            a.seal(&aad, b"x"),
            a.seal(&aad, b"x"),
            "a fresh nonce each time"
        );
        assert_eq!(a.open(&aad, b"short"), None);
    }
}
