//! Reading a JWT's expiry (no signature check: the server does that) to refresh in time.

/// Refresh when the access token has less than this left (CARE's access lifetime is 10 min).
pub const REFRESH_MARGIN_SECS: i64 = 120;

/// The `exp` claim of a JWT, if it is well formed.
pub fn expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = decode_base64url(payload)?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_i64()
}

/// True when a token expiring at `exp` should be refreshed at `now` (unknown expiry: yes).
pub fn needs_refresh(exp: Option<i64>, now: i64) -> bool {
    match exp {
        Some(exp) => exp - now < REFRESH_MARGIN_SECS,
        None => true,
    }
}

fn decode_base64url(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for c in input.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real simplejwt refresh token from care-samples/auth_token_refresh.json.
    const SAMPLE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTMwMjE5NywiaWF0IjoxNzk1MzAwMzk3LCJqdGkiOiI0ZWNlZDc2YWZjMmU0ZjMwYTNjNTY0MjQ4OWNmODNmYSIsInVzZXJfaWQiOiJmMzdmNWMyZi0zNWQxLTRjNmUtYWFlZS1mZTU2NWJiZjdkZTMifQ.-tUz7KXGv3Y0K9xXdKfvllohIQTVwS3qYz_ms9e93SE";

    #[test]
    fn reads_exp_of_a_care_token() {
        assert_eq!(expiry(SAMPLE), Some(1_795_302_197));
        assert_eq!(expiry("not-a-jwt"), None);
        assert_eq!(expiry("a.!!!.c"), None);
    }

    #[test]
    fn refreshes_inside_the_margin_only() {
        assert!(!needs_refresh(Some(1000), 1000 - REFRESH_MARGIN_SECS - 1));
        assert!(needs_refresh(Some(1000), 1000 - REFRESH_MARGIN_SECS + 1));
        assert!(needs_refresh(None, 0));
    }
}
