//! Django-style `pbkdf2_sha256$<iterations>$<salt>$<hash>` password hashes.

use base64::{engine::general_purpose::STANDARD, Engine};
use rand::{distributions::Alphanumeric, Rng};
use sha2::Sha256;

const ITERATIONS: u32 = 60_000;

pub fn hash(password: &str) -> String {
    let salt: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    hash_with(password, &salt, ITERATIONS)
}

fn hash_with(password: &str, salt: &str, iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
    format!("pbkdf2_sha256${iterations}${salt}${}", STANDARD.encode(out))
}

/// Constant-time compare of a password against a stored hash; a malformed hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2_sha256"), Some(iter), Some(salt), Some(_), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(iterations) = iter.parse::<u32>() else {
        return false;
    };
    let candidate = hash_with(password, salt, iterations);
    candidate.len() == stored.len()
        && candidate
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_password() {
        let h = hash("Ohcn@123");
        assert!(verify("Ohcn@123", &h));
        assert!(!verify("ohcn@123", &h));
        assert!(!verify("Ohcn@123", "plain"));
        assert_ne!(h, hash("Ohcn@123"), "salted");
    }
}
