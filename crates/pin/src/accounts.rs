//! Keys and accounts on the command line: `dev:N`, hex keys, key files and addresses.

use std::path::Path;
use std::str::FromStr;

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result, anyhow, bail};
use pin_chain::dev_accounts;

/// Number of dev accounts (`dev:0` … `dev:9`), as anvil derives by default.
const DEV_ACCOUNTS: usize = 10;

fn dev_index(text: &str) -> Option<Result<usize>> {
    let index = text.strip_prefix("dev:")?;
    Some(match index.parse::<usize>() {
        Ok(i) if i < DEV_ACCOUNTS => Ok(i),
        _ => Err(anyhow!(
            "{text:?}: dev accounts are dev:0 to dev:{}",
            DEV_ACCOUNTS - 1
        )),
    })
}

/// Parses `--key`: `dev:N`, a 32-byte hex private key, or the path of a file holding one.
pub(crate) fn signer(text: &str) -> Result<PrivateKeySigner> {
    if let Some(index) = dev_index(text) {
        let (_, key) = dev_accounts()[index?];
        return PrivateKeySigner::from_bytes(&key).context("dev key");
    }
    let hex = if Path::new(text).is_file() {
        std::fs::read_to_string(text).with_context(|| format!("reading key file {text}"))?
    } else if text.trim_start_matches("0x").len() == 64 {
        text.to_string()
    } else {
        bail!("--key {text:?} is neither dev:N, a 32-byte hex key, nor a readable key file");
    };
    let bytes =
        B256::from_str(hex.trim()).map_err(|e| anyhow!("--key: not a 32-byte hex key: {e}"))?;
    PrivateKeySigner::from_bytes(&bytes)
        .map_err(|e| anyhow!("--key: not a valid secp256k1 key: {e}"))
}

/// Parses an account argument: `dev:N` or a 20-byte hex address.
pub(crate) fn account(text: &str) -> Result<Address> {
    if let Some(index) = dev_index(text) {
        return Ok(dev_accounts()[index?].0);
    }
    Address::from_str(text).map_err(|_| {
        anyhow!("{text:?} is not an account (expected dev:N or a 0x-prefixed 20-byte address)")
    })
}

/// Parses a 32-byte hex value (attestation digests, evidence hashes).
pub(crate) fn digest(text: &str) -> Result<B256> {
    B256::from_str(text)
        .map_err(|_| anyhow!("{text:?} is not a 32-byte hex digest (0x followed by 64 hex digits)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_accounts_match_anvil() {
        let dev0 = account("dev:0").expect("dev:0");
        assert_eq!(
            dev0,
            Address::from_str("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").expect("address")
        );
        assert_eq!(signer("dev:0").expect("key").address(), dev0);
        assert!(account("dev:10").is_err());
        assert!(account("dev:x").is_err());
    }

    #[test]
    fn keys_and_digests_are_checked() {
        let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        assert_eq!(
            signer(key).expect("hex key").address(),
            account("dev:1").expect("dev:1")
        );
        assert!(signer("0x1234").is_err());
        assert!(digest("0x12").is_err());
        assert!(digest(&format!("0x{}", "ab".repeat(32))).is_ok());
    }
}
