//! Opening a user's vault: with the password at sign-in (creating it the first time, and
//! re-wrapping it when CARE has a new password, through the server's escrow key), or with
//! the password alone when unlocking offline. The secret exists in memory only while the
//! data keys are derived from it. Browser only.

use super::{
    crypto::{self, DataKeys},
    envelope::{
        decode_bytes, encode_bytes, secret_aad, KeyRecord, PASSWORD_ITERATIONS, SALT_LEN,
        SECRET_LEN,
    },
    keystore, VaultError,
};

const BY_PASSWORD: &str = "password";
const BY_ESCROW: &str = "escrow";

fn now() -> i64 {
    js_sys::Date::now() as i64
}

async fn seal_by_password(
    user: &str,
    password: &str,
    secret: &[u8],
) -> Result<(String, String, u32), VaultError> {
    let salt = crypto::random(SALT_LEN)?;
    let key = crypto::password_key(password, &salt, PASSWORD_ITERATIONS).await?;
    let sealed = crypto::seal(&key, &secret_aad(user, BY_PASSWORD), secret).await?;
    Ok((encode_bytes(&salt), sealed, PASSWORD_ITERATIONS))
}

async fn seal_by_escrow(user: &str, escrow: &[u8], secret: &[u8]) -> Result<String, VaultError> {
    let key = crypto::raw_key(escrow).await?;
    crypto::seal(&key, &secret_aad(user, BY_ESCROW), secret).await
}

async fn open_by_password(record: &KeyRecord, password: &str) -> Result<Vec<u8>, VaultError> {
    let key = crypto::password_key(password, &record.salt_bytes()?, record.iterations).await?;
    crypto::open(
        &key,
        &secret_aad(&record.user, BY_PASSWORD),
        &record.by_password,
    )
    .await
}

async fn open_by_escrow(record: &KeyRecord, escrow: &[u8]) -> Result<Vec<u8>, VaultError> {
    let sealed = record.by_escrow.as_deref().ok_or(VaultError::WrongKey)?;
    let key = crypto::raw_key(escrow).await?;
    crypto::open(&key, &secret_aad(&record.user, BY_ESCROW), sealed).await
}

/// The server's escrow key as it arrives with the sign-in answer.
pub fn escrow_bytes(text: Option<&str>) -> Option<Vec<u8>> {
    text.and_then(|t| decode_bytes(t).ok())
        .filter(|b| b.len() == SECRET_LEN)
}

async fn keys_then_forget(mut secret: Vec<u8>) -> Result<DataKeys, VaultError> {
    let keys = DataKeys::from_secret(&secret).await;
    secret.fill(0);
    keys
}

/// After CARE accepted `password`: opens the user's vault, creating it on a first sign-in
/// on this device, re-wrapping it when the password changed (the escrow opens it then).
pub async fn at_sign_in(
    user: &str,
    password: &str,
    escrow: Option<&[u8]>,
) -> Result<DataKeys, VaultError> {
    let Some(mut record) = keystore::key_record(user).await? else {
        let secret = crypto::random(SECRET_LEN)?;
        let (salt, by_password, iterations) = seal_by_password(user, password, &secret).await?;
        let by_escrow = match escrow {
            Some(e) => Some(seal_by_escrow(user, e, &secret).await?),
            None => None,
        };
        keystore::put_key_record(&KeyRecord {
            user: user.to_string(),
            salt,
            iterations,
            by_password,
            by_escrow,
            created_at: now(),
            rewrapped_at: None,
        })
        .await?;
        return keys_then_forget(secret).await;
    };
    let secret = match open_by_password(&record, password).await {
        Ok(secret) => {
            // Keep the escrow copy current (the server's key may have been replaced).
            if let Some(e) = escrow {
                if open_by_escrow(&record, e).await.is_err() {
                    record.by_escrow = Some(seal_by_escrow(user, e, &secret).await?);
                    keystore::put_key_record(&record).await?;
                }
            }
            secret
        }
        Err(VaultError::WrongKey) => {
            // CARE accepted a password this device does not know: it was changed.
            let Some(e) = escrow else {
                return Err(VaultError::PasswordChanged);
            };
            let secret = open_by_escrow(&record, e)
                .await
                .map_err(|_| VaultError::PasswordChanged)?;
            let (salt, by_password, iterations) = seal_by_password(user, password, &secret).await?;
            record.salt = salt;
            record.by_password = by_password;
            record.iterations = iterations;
            record.rewrapped_at = Some(now());
            keystore::put_key_record(&record).await?;
            secret
        }
        Err(e) => return Err(e),
    };
    keys_then_forget(secret).await
}

/// Unlocks without the network: only the password this device knows opens it.
pub async fn with_password(user: &str, password: &str) -> Result<DataKeys, VaultError> {
    let record = keystore::key_record(user)
        .await?
        .ok_or(VaultError::NoVault)?;
    let secret = open_by_password(&record, password).await?;
    keys_then_forget(secret).await
}
