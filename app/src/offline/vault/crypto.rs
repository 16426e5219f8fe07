//! WebCrypto (`SubtleCrypto`) for the vault: the password key (PBKDF2-SHA-256), the data
//! keys derived from the user's secret (HKDF: AES-GCM for records, HMAC for lookup ids),
//! sealing and opening with a fresh IV each time. Every key is non-extractable. Browser
//! only.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use super::{
    envelope::{encode_bytes, Sealed, IV_LEN},
    VaultError,
};

fn js_err(what: &str, e: JsValue) -> VaultError {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_default();
    VaultError::Unavailable(format!("{what}: {detail}"))
}

fn crypto() -> Result<web_sys::Crypto, VaultError> {
    web_sys::window()
        .ok_or_else(|| VaultError::Unavailable("no window".into()))?
        .crypto()
        .map_err(|e| js_err("no WebCrypto", e))
}

/// `crypto.subtle` exists only on secure pages (https, or this machine).
fn subtle() -> Result<SubtleCrypto, VaultError> {
    let subtle = crypto()?.subtle();
    if subtle.is_undefined() {
        return Err(VaultError::Unavailable(
            "this page is not served securely (https), so the browser offers no encryption".into(),
        ));
    }
    Ok(subtle)
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

async fn wait(what: &str, p: Result<js_sys::Promise, JsValue>) -> Result<JsValue, VaultError> {
    JsFuture::from(p.map_err(|e| js_err(what, e))?)
        .await
        .map_err(|e| js_err(what, e))
}

async fn key(what: &str, p: Result<js_sys::Promise, JsValue>) -> Result<CryptoKey, VaultError> {
    wait(what, p)
        .await?
        .dyn_into::<CryptoKey>()
        .map_err(|e| js_err(what, e))
}

pub fn random(len: usize) -> Result<Vec<u8>, VaultError> {
    let mut out = vec![0u8; len];
    crypto()?
        .get_random_values_with_u8_array(&mut out)
        .map_err(|e| js_err("random numbers", e))?;
    Ok(out)
}

fn aes_gcm() -> Object {
    object(&[
        ("name", "AES-GCM".into()),
        ("length", JsValue::from_f64(256.0)),
    ])
}

/// The key a password and salt derive (slow on purpose).
pub async fn password_key(
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<CryptoKey, VaultError> {
    let subtle = subtle()?;
    let base = key(
        "password",
        subtle.import_key_with_str(
            "raw",
            &Uint8Array::from(password.as_bytes()),
            "PBKDF2",
            false,
            &usages(&["deriveKey"]),
        ),
    )
    .await?;
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("salt", bytes(salt)),
        ("iterations", JsValue::from_f64(f64::from(iterations))),
        ("hash", "SHA-256".into()),
    ]);
    key(
        "password key",
        subtle.derive_key_with_object_and_object(
            &params,
            &base,
            &aes_gcm(),
            false,
            &usages(&["encrypt", "decrypt"]),
        ),
    )
    .await
}

/// An AES-GCM key from 32 raw bytes (the server's escrow key for this user).
pub async fn raw_key(raw: &[u8]) -> Result<CryptoKey, VaultError> {
    key(
        "escrow key",
        subtle()?.import_key_with_str(
            "raw",
            &Uint8Array::from(raw),
            "AES-GCM",
            false,
            &usages(&["encrypt", "decrypt"]),
        ),
    )
    .await
}

/// Seals `plain` with a fresh IV; `aad` is checked when it is opened.
pub async fn seal(key: &CryptoKey, aad: &[u8], plain: &[u8]) -> Result<String, VaultError> {
    let iv = random(IV_LEN)?;
    let params = object(&[
        ("name", "AES-GCM".into()),
        ("iv", bytes(&iv)),
        ("additionalData", bytes(aad)),
    ]);
    let out = wait(
        "sealing",
        subtle()?.encrypt_with_object_and_u8_array(&params, key, plain),
    )
    .await?;
    let data = Uint8Array::new(&out).to_vec();
    Ok(Sealed { iv, data }.to_text())
}

/// Opens sealed text; another key, other additional data or a changed byte is `WrongKey`.
pub async fn open(key: &CryptoKey, aad: &[u8], text: &str) -> Result<Vec<u8>, VaultError> {
    let sealed = Sealed::parse(text)?;
    let params = object(&[
        ("name", "AES-GCM".into()),
        ("iv", bytes(&sealed.iv)),
        ("additionalData", bytes(aad)),
    ]);
    let promise = subtle()?
        .decrypt_with_object_and_u8_array(&params, key, &sealed.data)
        .map_err(|e| js_err("opening", e))?;
    match JsFuture::from(promise).await {
        Ok(out) => Ok(Uint8Array::new(&out).to_vec()),
        // OperationError: the tag does not match.
        Err(_) => Err(VaultError::WrongKey),
    }
}

/// The keys a user's records are sealed with on this device, derived from their secret.
/// Both are non-extractable: script can use them while the vault is open, never read them.
#[derive(Clone, Debug)]
pub struct DataKeys {
    /// AES-GCM for every stored record.
    pub records: CryptoKey,
    /// HMAC-SHA-256 for lookup ids (a cache key names a phone search, say).
    pub lookup: CryptoKey,
}

impl DataKeys {
    pub async fn from_secret(secret: &[u8]) -> Result<Self, VaultError> {
        let subtle = subtle()?;
        let base = key(
            "secret",
            subtle.import_key_with_str(
                "raw",
                &Uint8Array::from(secret),
                "HKDF",
                false,
                &usages(&["deriveKey"]),
            ),
        )
        .await?;
        let hkdf = |info: &str| {
            object(&[
                ("name", "HKDF".into()),
                ("hash", "SHA-256".into()),
                ("salt", bytes(&[])),
                ("info", bytes(info.as_bytes())),
            ])
        };
        let records = key(
            "record key",
            subtle.derive_key_with_object_and_object(
                &hkdf("care-offline records v1"),
                &base,
                &aes_gcm(),
                false,
                &usages(&["encrypt", "decrypt"]),
            ),
        )
        .await?;
        let hmac = object(&[
            ("name", "HMAC".into()),
            ("hash", "SHA-256".into()),
            ("length", JsValue::from_f64(256.0)),
        ]);
        let lookup = key(
            "lookup key",
            subtle.derive_key_with_object_and_object(
                &hkdf("care-offline lookup v1"),
                &base,
                &hmac,
                false,
                &usages(&["sign"]),
            ),
        )
        .await?;
        Ok(Self { records, lookup })
    }

    /// Keys restored from the browser's storage (structured clone keeps them usable and
    /// non-extractable).
    pub fn from_js(records: JsValue, lookup: JsValue) -> Option<Self> {
        Some(Self {
            records: records.dyn_into().ok()?,
            lookup: lookup.dyn_into().ok()?,
        })
    }

    pub async fn seal_text(&self, aad: &[u8], text: &str) -> Result<String, VaultError> {
        seal(&self.records, aad, text.as_bytes()).await
    }

    pub async fn open_text(&self, aad: &[u8], sealed: &str) -> Result<String, VaultError> {
        let plain = open(&self.records, aad, sealed).await?;
        String::from_utf8(plain).map_err(|_| VaultError::Damaged("not text".into()))
    }

    /// A stable id for `text` that does not reveal it.
    pub async fn lookup_id(&self, text: &str) -> Result<String, VaultError> {
        let params = object(&[("name", "HMAC".into())]);
        let mac = wait(
            "lookup id",
            subtle()?.sign_with_object_and_u8_array(&params, &self.lookup, text.as_bytes()),
        )
        .await?;
        Ok(encode_bytes(&Uint8Array::new(&mac).to_vec()))
    }
}
