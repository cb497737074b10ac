//! The canonical byte encoding and its keccak-256 hash, the bytes that get signed.
//!
//! Rules (version 1):
//! * every message starts with a domain tag (`"PIN/NASH/v1/<kind>"`, itself length-prefixed), so
//!   the bytes of an intent can never be mistaken for those of a settlement;
//! * integers are fixed-width big-endian (`u8`, `u16`, `u32`, `u64`, `i64`, `i128`);
//! * floats (game strategies only) are their IEEE-754 bit pattern as a big-endian `u64`, with
//!   `-0.0` written as `0.0`;
//! * sequences are a `u32` length followed by the elements; enum variants are a `u8` tag;
//! * collections that mean a *set* (intents of a challenge, fills and prices of a settlement,
//!   allowed counterparties) are sorted before encoding, so the bytes — and the hash — do not depend
//!   on the order in which a client listed them.
//!
//! The format has no maps and no optional padding: equal values give equal bytes.

use crate::units::Hash32;
use sha3::{Digest, Keccak256};

/// keccak-256 of `bytes`.
#[must_use]
pub fn keccak256(bytes: &[u8]) -> Hash32 {
    let mut h = Keccak256::new();
    h.update(bytes);
    Hash32(h.finalize().into())
}

/// Values with a canonical encoding. `canonical_bytes` and `hash` come for free.
pub trait Canonical {
    /// The domain tag, e.g. `"intent"`; prefixed by `PIN/NASH/v1/`.
    const DOMAIN: &'static str;

    /// Appends the body (without the domain tag) to `w`.
    fn encode_body(&self, w: &mut Writer);

    /// The full canonical bytes: domain tag then body.
    fn canonical_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(format!("PIN/NASH/v1/{}", Self::DOMAIN).as_bytes());
        self.encode_body(&mut w);
        w.into_bytes()
    }

    /// keccak-256 of [`Canonical::canonical_bytes`].
    fn hash(&self) -> Hash32 {
        keccak256(&self.canonical_bytes())
    }
}

/// Appends canonical primitives to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// The bytes written so far.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
    /// One byte (also enum tags and booleans).
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// Big-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian `i64`.
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian `i128`.
    pub fn i128(&mut self, v: i128) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// An `f64` as its bit pattern (`-0.0` normalised to `0.0`).
    pub fn f64(&mut self, v: f64) {
        let v = if v == 0.0 { 0.0 } else { v };
        self.u64(v.to_bits());
    }
    /// A length prefix. Lengths above `u32::MAX` cannot occur for validated values; they are
    /// saturated so that encoding itself never panics.
    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    /// Length-prefixed raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.buf.extend_from_slice(b);
    }
    /// A length-prefixed sequence, each element written by `f`.
    pub fn seq<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        self.len(items.len());
        for it in items {
            f(self, it);
        }
    }
    /// A length-prefixed *set*: elements are encoded individually, sorted by their bytes, then
    /// written. Independent of the input order.
    pub fn set<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        let mut encoded: Vec<Vec<u8>> = items
            .iter()
            .map(|it| {
                let mut w = Writer::default();
                f(&mut w, it);
                w.buf
            })
            .collect();
        encoded.sort();
        self.len(encoded.len());
        for e in encoded {
            self.buf.extend_from_slice(&e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak_of_empty_is_the_known_constant() {
        assert_eq!(
            keccak256(b"").to_string(),
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn sets_ignore_order_sequences_do_not() {
        let enc = |xs: &[u32], set: bool| {
            let mut w = Writer::default();
            if set {
                w.set(xs, |w, x| w.u32(*x));
            } else {
                w.seq(xs, |w, x| w.u32(*x));
            }
            w.into_bytes()
        };
        assert_eq!(enc(&[1, 2, 3], true), enc(&[3, 1, 2], true));
        assert_ne!(enc(&[1, 2, 3], false), enc(&[3, 1, 2], false));
        assert_eq!(enc(&[7], false), vec![0, 0, 0, 1, 0, 0, 0, 7]);
    }

    #[test]
    fn negative_zero_encodes_as_zero() {
        let mut a = Writer::default();
        a.f64(-0.0);
        let mut b = Writer::default();
        b.f64(0.0);
        assert_eq!(a.into_bytes(), b.into_bytes());
    }
}
