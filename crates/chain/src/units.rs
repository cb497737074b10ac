//! Token amounts.

use std::fmt;
use std::str::FromStr;

use alloy::primitives::U256;
use serde::{Deserialize, Serialize};

/// Decimals of the PIN token.
pub const DECIMALS: u8 = 18;
const WEI_PER_PIN: u128 = 1_000_000_000_000_000_000;

/// An amount of PIN, held in wei (10^-18 PIN).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pin(U256);

impl Pin {
    /// Zero PIN.
    pub const ZERO: Self = Self(U256::ZERO);

    /// An amount given in wei.
    #[must_use]
    pub const fn from_wei(wei: U256) -> Self {
        Self(wei)
    }

    /// An amount of whole tokens.
    #[must_use]
    pub fn whole(tokens: u64) -> Self {
        Self(U256::from(tokens) * U256::from(WEI_PER_PIN))
    }

    /// The amount in wei.
    #[must_use]
    pub const fn wei(self) -> U256 {
        self.0
    }

    /// `self + other`, `None` on overflow.
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `self - other`, `None` below zero.
    #[must_use]
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }
}

/// Writes the amount in PIN with as many decimals as it needs: `7500 PIN`, `0.5 PIN`.
impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} PIN", self.to_decimal())
    }
}

impl Pin {
    /// The amount in PIN as a plain decimal string without unit: `7500`, `0.000000000000000001`.
    #[must_use]
    pub fn to_decimal(self) -> String {
        let unit = U256::from(WEI_PER_PIN);
        let whole = self.0 / unit;
        let frac = self.0 % unit;
        if frac.is_zero() {
            return whole.to_string();
        }
        let frac = format!("{:0>18}", frac.to_string());
        format!("{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// Why a PIN amount did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The text is not a non-negative decimal number.
    #[error("{0:?} is not an amount of PIN (expected e.g. 10000 or 0.5)")]
    NotANumber(String),
    /// More than 18 decimals.
    #[error("{0:?} has more than 18 decimals")]
    TooPrecise(String),
    /// Larger than 2^256 wei.
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// Parses an amount in PIN (`10000`, `0.5`, `1_000`), or in wei with a `wei` suffix.
impl FromStr for Pin {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let cleaned: String = text.trim().chars().filter(|c| *c != '_').collect();
        if let Some(wei) = cleaned.strip_suffix("wei") {
            return U256::from_str_radix(wei.trim(), 10)
                .map(Self)
                .map_err(|_| AmountError::NotANumber(text.into()));
        }
        let cleaned = cleaned.strip_suffix("PIN").unwrap_or(&cleaned).trim();
        let (whole, frac) = cleaned.split_once('.').unwrap_or((cleaned, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
            return Err(AmountError::NotANumber(text.into()));
        }
        if frac.len() > usize::from(DECIMALS) {
            return Err(AmountError::TooPrecise(text.into()));
        }
        let whole = if whole.is_empty() {
            U256::ZERO
        } else {
            U256::from_str_radix(whole, 10).map_err(|_| AmountError::TooLarge(text.into()))?
        };
        let frac = if frac.is_empty() {
            U256::ZERO
        } else {
            let padded = format!("{frac:0<18}");
            U256::from_str_radix(&padded, 10).map_err(|_| AmountError::NotANumber(text.into()))?
        };
        whole
            .checked_mul(U256::from(WEI_PER_PIN))
            .and_then(|w| w.checked_add(frac))
            .map(Self)
            .ok_or_else(|| AmountError::TooLarge(text.into()))
    }
}

/// Serialised as the decimal PIN string (`"7500"`), which JSON consumers parse without losing
/// precision.
impl Serialize for Pin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_decimal())
    }
}

impl<'de> Deserialize<'de> for Pin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_whole_and_fractional_amounts() {
        let cases = [
            ("10000", "10000"),
            ("0.5", "0.5"),
            ("1_000.250", "1000.25"),
            ("1wei", "0.000000000000000001"),
        ];
        for (input, shown) in cases {
            let pin: Pin = input.parse().expect(input);
            assert_eq!(pin.to_decimal(), shown, "{input}");
            assert_eq!(pin.to_decimal().parse::<Pin>(), Ok(pin));
        }
        assert_eq!(Pin::whole(7500).to_string(), "7500 PIN");
    }

    #[test]
    fn rejects_bad_amounts_by_name() {
        assert!(matches!(
            "-5".parse::<Pin>(),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            "1e3".parse::<Pin>(),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!("".parse::<Pin>(), Err(AmountError::NotANumber(_))));
        assert!(matches!(
            "0.0000000000000000001".parse::<Pin>(),
            Err(AmountError::TooPrecise(_))
        ));
        let huge = "9".repeat(80);
        assert!(matches!(huge.parse::<Pin>(), Err(AmountError::TooLarge(_))));
    }
}
