//! Identifiers and exact fixed-point units.
//!
//! Everything that a validator must agree on bit-for-bit with every other validator is an
//! integer here: quantities, prices and money. The scales are chosen so that the product of a
//! quantity and a price is an exact amount of money:
//!
//! | type | unit | range accepted by validation |
//! |---|---|---|
//! | [`Quantity`] | 10⁻⁶ of a resource unit (a "micro-unit") | `0 ..= Quantity::MAX_VALID` (10¹⁵, a billion units) |
//! | [`Price`] | 10⁻⁶ money per whole resource unit | `0 ..= Price::MAX_VALID` (10¹⁵, a billion per unit) |
//! | [`Money`] | 10⁻¹² money (a "pico"), signed | sums of `Quantity × Price`: at most 10³⁰ per term, far inside `i128` |
//!
//! `Quantity(q) × Price(p) = Money(q·p)` exactly, because 10⁻⁶ · 10⁻⁶ = 10⁻¹².

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Number of fixed-point steps in one whole resource unit or one whole unit of money per unit.
pub const MICRO: u64 = 1_000_000;

/// Number of [`Money`] steps in one whole unit of money.
pub const PICO: i128 = 1_000_000_000_000;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_newtype!(
    /// A party (a subnet or an agent) inside one challenge. The intent gateway maps it to the
    /// party's chain address; the mechanism only needs it to be distinct per party.
    PartyId(u32)
);
id_newtype!(
    /// An intent, unique within a challenge.
    IntentId(u64)
);
id_newtype!(
    /// A challenge, unique per validator.
    ChallengeId(u64)
);
id_newtype!(
    /// A bundle: intents of one party that are filled all together, each at its full quantity,
    /// or not at all. Unique within a challenge.
    BundleId(u32)
);
id_newtype!(
    /// A kind of resource traded (GPU hours, storage, …). Open-ended: the named constants are
    /// the ones the generators use first.
    ResourceKind(u16)
);

impl ResourceKind {
    /// GPU hours.
    pub const GPU_HOURS: Self = Self(0);
    /// CPU core hours.
    pub const CPU_HOURS: Self = Self(1);
    /// Storage, GB-months.
    pub const STORAGE: Self = Self(2);
    /// Network egress, GB.
    pub const BANDWIDTH: Self = Self(3);
}

/// An amount of a resource in micro-units (10⁻⁶ of a unit).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Quantity(pub u64);

impl Quantity {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// Smallest positive amount (one micro-unit).
    pub const EPSILON: Self = Self(1);
    /// Largest quantity validation accepts (10⁹ whole units). Keeps every product with a
    /// [`Price`] and every sum over a challenge inside `i128`.
    pub const MAX_VALID: Self = Self(1_000_000_000_000_000);

    /// `n` whole units.
    #[must_use]
    pub const fn units(n: u64) -> Self {
        Self(n * MICRO)
    }

    /// Whether the quantity is within [`Quantity::MAX_VALID`].
    #[must_use]
    pub const fn is_valid(self) -> bool {
        self.0 <= Self::MAX_VALID.0
    }

    /// The quantity in whole units, as a float (for solvers and display only).
    #[must_use]
    pub fn as_units_f64(self) -> f64 {
        self.0 as f64 / MICRO as f64
    }
}

impl std::ops::Add for Quantity {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::Sub for Quantity {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / MICRO, self.0 % MICRO)
    }
}

/// A price: micro-money (10⁻⁶) per whole resource unit.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Price(pub u64);

impl Price {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// Largest price validation accepts (10⁹ money per unit).
    pub const MAX_VALID: Self = Self(1_000_000_000_000_000);

    /// A price of `whole` + `micro`·10⁻⁶ per unit.
    #[must_use]
    pub const fn new(whole: u64, micro: u64) -> Self {
        Self(whole * MICRO + micro)
    }

    /// Whether the price is within [`Price::MAX_VALID`].
    #[must_use]
    pub const fn is_valid(self) -> bool {
        self.0 <= Self::MAX_VALID.0
    }

    /// The price in money per unit, as a float (for solvers and display only).
    #[must_use]
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / MICRO as f64
    }

    /// The nearest valid price to a float number of money per unit (NaN and negatives give 0).
    #[must_use]
    pub fn from_f64_rounded(x: f64) -> Self {
        let scaled = (x * MICRO as f64).round();
        if scaled.is_nan() || scaled <= 0.0 {
            Self::ZERO
        } else if scaled >= Self::MAX_VALID.0 as f64 {
            Self::MAX_VALID
        } else {
            Self(scaled as u64)
        }
    }

    /// The exact cost of `q` at this price (exact for validated values; saturates rather than
    /// overflowing for arbitrary ones).
    #[must_use]
    pub fn times(self, q: Quantity) -> Money {
        Money(i128::from(self.0).saturating_mul(i128::from(q.0)))
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / MICRO, self.0 % MICRO)
    }
}

/// Signed money in picos (10⁻¹²). Exact products of [`Quantity`] and [`Price`].
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Money(pub i128);

impl Money {
    /// Zero.
    pub const ZERO: Self = Self(0);

    /// The amount in whole money, as a float (for ratios and display only).
    #[must_use]
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / PICO as f64
    }
}

impl std::ops::Add for Money {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::Sub for Money {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl std::ops::SubAssign for Money {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let p = PICO.unsigned_abs();
        write!(f, "{sign}{}.{:012}", a / p, a % p)
    }
}

/// A 32-byte keccak-256 digest, shown and serialised as `0x`-prefixed hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash32(pub [u8; 32]);

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Hash32 {
    /// Parses `0x` + 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl Serialize for Hash32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl JsonSchema for Hash32 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Hash32".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "32 bytes as 0x and 64 lowercase hex digits",
            "type": "string",
            "pattern": "^0x[0-9a-fA-F]{64}$"
        })
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 0x + 64 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_exact() {
        assert_eq!(
            Price::new(1, 500_000).times(Quantity::units(200)),
            Money(300 * PICO)
        );
        assert_eq!(Price(1).times(Quantity(1)), Money(1));
        let max = Price::MAX_VALID.times(Quantity::MAX_VALID);
        assert!(max.0 > 0 && max.0 < i128::MAX / 1_000_000);
        assert_eq!(Price(u64::MAX).times(Quantity(u64::MAX)), Money(i128::MAX));
    }

    #[test]
    fn display_and_rounding() {
        assert_eq!(Quantity(1_500_000).to_string(), "1.500000");
        assert_eq!(Money(-(PICO + 5)).to_string(), "-1.000000000005");
        assert_eq!(Price::from_f64_rounded(1.52), Price(1_520_000));
        assert_eq!(Price::from_f64_rounded(f64::NAN), Price::ZERO);
        assert_eq!(Price::from_f64_rounded(-3.0), Price::ZERO);
        assert_eq!(Price::from_f64_rounded(1e300), Price::MAX_VALID);
    }

    #[test]
    fn hash_hex_round_trip() {
        let h = Hash32([0xab; 32]);
        assert_eq!(Hash32::from_hex(&h.to_string()), Some(h));
        assert_eq!(Hash32::from_hex("0x12"), None);
        assert_eq!(Hash32::from_hex(&"zz".repeat(32)), None);
    }
}
