//! The server's own secret: 32 random bytes in `<data-dir>/server-secret.key`, created on
//! first start and readable by the server's user only. Keys for separate purposes derive
//! from it by label (HMAC-SHA-256): the vault escrow (`vault_escrow`) and the sealing of
//! the proxy's stored answers at rest (`sync::at_rest`). Deleting the file rotates both:
//! devices re-wrap their vault at the next sign-in, and stored answers that no longer open
//! count as lost (their writes become "outcome unknown", never sent twice).

use std::path::Path;

use hmac::{Hmac, Mac};

const FILE: &str = "server-secret.key";
pub const LEN: usize = 32;

#[derive(Clone)]
pub struct ServerSecret([u8; LEN]);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or create the server secret {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the server secret {0} is damaged (expected {LEN} bytes); restore it or remove it to start a new one")]
    Damaged(String),
    #[error("the shared server secret {0} does not exist; create it once (e.g. `head -c 32 /dev/urandom > {0}`, mode 0600) and give every replica the same file")]
    Missing(String),
}

impl ServerSecret {
    /// Reads the secret from the data directory, creating it on first start.
    pub fn open(data_dir: &Path) -> Result<Self, SecretError> {
        let path = data_dir.join(FILE);
        let shown = path.display().to_string();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let secret: [u8; LEN] = bytes
                    .try_into()
                    .map_err(|_| SecretError::Damaged(shown.clone()))?;
                Ok(Self(secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; LEN];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
                write_private(&path, &secret).map_err(|e| SecretError::Io(shown, e))?;
                Ok(Self(secret))
            }
            Err(e) => Err(SecretError::Io(shown, e)),
        }
    }

    /// Reads a secret shared by several replicas (`--secret-file`): it must exist, so two
    /// replicas never each make their own.
    pub fn open_file(path: &Path) -> Result<Self, SecretError> {
        let shown = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => Ok(Self(
                bytes.try_into().map_err(|_| SecretError::Damaged(shown))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SecretError::Missing(shown)),
            Err(e) => Err(SecretError::Io(shown, e)),
        }
    }

    /// The key for one purpose.
    pub fn derive(&self, label: &str) -> [u8; LEN] {
        keyed_hash(&self.0, &[b"care-offline-server:", label.as_bytes()])
    }
}

/// HMAC-SHA-256 of the concatenated `parts` under `key`.
pub fn keyed_hash(key: &[u8], parts: &[&[u8]]) -> [u8; LEN] {
    let mut mac =
        <Hmac<sha2::Sha256>>::new_from_slice(key).expect("HMAC takes a key of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_kept_across_starts() {
        let dir = tempfile::tempdir().expect("dir");
        let a = ServerSecret::open(dir.path()).expect("create");
        let b = ServerSecret::open(dir.path()).expect("reopen");
        assert_eq!(a.derive("x"), b.derive("x"));
        assert_ne!(a.derive("x"), a.derive("y"), "one key per purpose");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by the server's user only");
        }
        let other = tempfile::tempdir().expect("dir");
        assert_ne!(
            ServerSecret::open(other.path()).expect("other").derive("x"),
            a.derive("x")
        );
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(FILE), b"short").expect("write");
        assert!(matches!(
            ServerSecret::open(dir.path()),
            Err(SecretError::Damaged(_))
        ));
    }
}
