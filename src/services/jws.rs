//! Signed JSON Web Tokens (RFC 7515 compact form, RFC 7517 keys) for the
//! OpenID provider, with `ring`: constant-time RSA and ECDSA, already in
//! the build through rustls. (`jsonwebtoken` 10 signs RSA either with the
//! `rsa` crate, whose private-key operations are not constant-time,
//! RUSTSEC-2023-0071, or with aws-lc's C build.) The `rsa` crate is used
//! only to *generate* RSA keys, which ring cannot do.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use serde::Serialize;

use crate::domain::application::SigningAlg;

/// A private signing key, ready to sign. Its Debug shows the key id only.
pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pair: Pair,
    /// The public key in the form `verify` takes.
    public: Vec<u8>,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A newly generated key: its PKCS#8 private key and its JWKS entry.
pub struct Generated {
    pub kid: String,
    pub private_der: Vec<u8>,
    pub public_jwk: String,
}

#[derive(Serialize)]
struct RsaJwk<'a> {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
    kid: &'a str,
    n: String,
    e: String,
}

#[derive(Serialize)]
struct EcJwk<'a> {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
    kid: &'a str,
    crv: &'static str,
    x: String,
    y: String,
}

/// Generates a key for `alg` (RSA: 2048 bits; slow, so call it off the
/// async executor).
pub fn generate(alg: SigningAlg) -> anyhow::Result<Generated> {
    let kid = crate::domain::ids::new_id();
    let private_der = match alg {
        SigningAlg::Rs256 => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)?;
            key.to_pkcs8_der()?.as_bytes().to_vec()
        }
        SigningAlg::Es256 => EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .map_err(|_| anyhow::anyhow!("cannot generate a P-256 key"))?
        .as_ref()
        .to_vec(),
    };
    let key = SigningKey::from_pkcs8(&kid, alg, &private_der)?;
    Ok(Generated {
        public_jwk: key.public_jwk(),
        kid,
        private_der,
    })
}

impl SigningKey {
    pub fn from_pkcs8(kid: &str, alg: SigningAlg, der: &[u8]) -> anyhow::Result<Self> {
        let rejected = |e: ring::error::KeyRejected| anyhow::anyhow!("signing key {kid}: {e}");
        let (pair, public) = match alg {
            SigningAlg::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
                let public = pair.public().as_ref().to_vec();
                (Pair::Rsa(pair), public)
            }
            SigningAlg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                    &SystemRandom::new(),
                )
                .map_err(rejected)?;
                let public = pair.public_key().as_ref().to_vec();
                (Pair::Ec(pair), public)
            }
        };
        Ok(Self {
            kid: kid.to_owned(),
            alg,
            pair,
            public,
        })
    }

    /// The key's JWKS entry (RFC 7517, RFC 7518 §6).
    pub fn public_jwk(&self) -> String {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match &self.pair {
            Pair::Rsa(pair) => {
                let c: signature::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
                serde_json::to_string(&RsaJwk {
                    kty: "RSA",
                    use_: "sig",
                    alg: "RS256",
                    kid: &self.kid,
                    n: b64(&c.n),
                    e: b64(&c.e),
                })
            }
            Pair::Ec(_) => {
                // An uncompressed point: 0x04, then x and y of 32 bytes each.
                let (x, y) = self.public[1..].split_at(32);
                serde_json::to_string(&EcJwk {
                    kty: "EC",
                    use_: "sig",
                    alg: "ES256",
                    kid: &self.kid,
                    crv: "P-256",
                    x: b64(x),
                    y: b64(y),
                })
            }
        }
        .expect("a JWK serializes")
    }

    /// `claims` signed as a compact JWS with header `typ`.
    pub fn sign<C: Serialize>(&self, typ: &str, claims: &C) -> anyhow::Result<String> {
        self.sign_payload(typ, &serde_json::to_vec(claims)?)
    }

    /// `payload` (JSON already serialized) signed as a compact JWS.
    pub fn sign_payload(&self, typ: &str, payload: &[u8]) -> anyhow::Result<String> {
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'static str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            typ,
            kid: &self.kid,
        })?;
        let mut out = URL_SAFE_NO_PAD.encode(header);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        let rng = SystemRandom::new();
        let sig = match &self.pair {
            Pair::Rsa(pair) => {
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, out.as_bytes(), &mut sig)
                    .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
                sig
            }
            Pair::Ec(pair) => pair
                .sign(&rng, out.as_bytes())
                .map_err(|_| anyhow::anyhow!("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
        };
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut out);
        Ok(out)
    }

    /// Whether `signature` is this key's over `message`.
    fn verifies(&self, message: &[u8], sig: &[u8]) -> bool {
        let alg: &dyn signature::VerificationAlgorithm = match self.alg {
            SigningAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            SigningAlg::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
        };
        UnparsedPublicKey::new(alg, &self.public)
            .verify(message, sig)
            .is_ok()
    }
}

/// A compact JWS taken apart; its payload is trusted only after `verify`.
pub struct Unverified<'a> {
    pub kid: String,
    pub typ: String,
    signed: &'a str,
    payload: Vec<u8>,
    sig: Vec<u8>,
}

/// Splits a compact JWS and reads its header; `None` if it is not one.
pub fn parse(token: &str) -> Option<Unverified<'_>> {
    #[derive(serde::Deserialize)]
    struct Header {
        kid: Option<String>,
        typ: Option<String>,
    }
    let (signed, sig) = token.rsplit_once('.')?;
    let (header, payload) = signed.split_once('.')?;
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    Some(Unverified {
        kid: header.kid?,
        typ: header.typ.unwrap_or_default(),
        signed,
        payload: URL_SAFE_NO_PAD.decode(payload).ok()?,
        sig: URL_SAFE_NO_PAD.decode(sig).ok()?,
    })
}

impl Unverified<'_> {
    /// The payload, if `key` (the one its `kid` names) signed it.
    pub fn verify(self, key: &SigningKey) -> Option<Vec<u8>> {
        key.verifies(self.signed.as_bytes(), &self.sig)
            .then_some(self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_with_both_algorithms() {
        for alg in SigningAlg::ALL {
            let g = generate(alg).unwrap();
            let key = SigningKey::from_pkcs8(&g.kid, alg, &g.private_der).unwrap();
            let token = key.sign("JWT", &serde_json::json!({"sub": "a"})).unwrap();
            let parsed = parse(&token).unwrap();
            assert_eq!(parsed.kid, g.kid);
            assert_eq!(parsed.verify(&key).unwrap(), br#"{"sub":"a"}"#);
            // One byte changed in the payload: refused.
            let mut parts: Vec<&str> = token.split('.').collect();
            let other = URL_SAFE_NO_PAD.encode(br#"{"sub":"b"}"#);
            parts[1] = &other;
            assert!(parse(&parts.join(".")).unwrap().verify(&key).is_none());
            assert!(!format!("{key:?}").contains("Pair"));
            assert!(g.public_jwk.contains(alg.as_str()));
        }
    }
}
