//! How connections to the store are protected, from the URL's `sslmode`:
//!
//! - `sslmode=require`: TLS (rustls), and the server's certificate must chain to a trusted
//!   CA and name the host of the URL — the system's CAs, or only those of `--store-ca`
//!   (a managed database's CA bundle, or a private CA). Stricter than libpq's `require`,
//!   which does not check the certificate: an unchecked certificate protects from nobody
//!   on the path.
//! - `disable` or `prefer` (tokio-postgres' default): no TLS, for a database on the
//!   replicas' private network.

use std::{path::Path, sync::Arc};

use rustls::{pki_types::pem::PemObject, pki_types::CertificateDer, RootCertStore};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::PgError;

/// The TLS a connection uses.
pub enum Tls {
    None,
    Verified(MakeRustlsConnect),
}

/// The connector for `mode`, trusting `ca_file`'s certificates when given, else the
/// system's.
pub fn for_mode(mode: SslMode, ca_file: Option<&Path>) -> Result<Tls, PgError> {
    if mode != SslMode::Require {
        return match ca_file {
            Some(_) => Err(PgError::Tls(
                "--store-ca is given but the store URL does not ask for TLS: add sslmode=require"
                    .into(),
            )),
            None => Ok(Tls::None),
        };
    }
    let roots = match ca_file {
        Some(path) => roots_from_file(path)?,
        None => system_roots()?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Tls::Verified(MakeRustlsConnect::new(config)))
}

fn roots_from_file(path: &Path) -> Result<RootCertStore, PgError> {
    let unreadable = |e: String| PgError::Tls(format!("--store-ca {}: {e}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    if certs.is_empty() {
        return Err(unreadable("no PEM certificate in it".into()));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| unreadable(format!("not a CA certificate: {e}")))?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, PgError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(PgError::Tls(
            "sslmode=require but the system has no CA certificates: give the store's CA with --store-ca".into(),
        ));
    }
    Ok(roots)
}
