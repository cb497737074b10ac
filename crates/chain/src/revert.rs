//! Decoding revert data back into the contract's error name and arguments.
//!
//! The errors are read from the committed ABIs, so a new custom error in a contract is decoded
//! without touching this module. Arguments are rendered for people: addresses checksummed,
//! enums by member name, roles by name, token amounts in PIN.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use alloy::dyn_abi::{DynSolValue, JsonAbiExt};
use alloy::json_abi::{Error as AbiError, JsonAbi};
use alloy::primitives::{B256, Bytes, keccak256};
use alloy::sol_types::{Panic, Revert, SolError};
use serde::Serialize;

use crate::bindings::artifacts;
use crate::units::Pin;

/// A revert decoded to the contract error that caused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecodedRevert {
    /// Error name, e.g. `StakingBelowMinimum`.
    pub name: String,
    /// Arguments by parameter name, rendered for display.
    pub args: Vec<(String, String)>,
}

impl DecodedRevert {
    /// The value of argument `name`, if the error has one.
    #[must_use]
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for DecodedRevert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, (name, value)) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{name}: {value}")?;
        }
        write!(f, ")")
    }
}

struct Catalog {
    errors: HashMap<[u8; 4], AbiError>,
    roles: HashMap<B256, &'static str>,
}

/// Role constants of the contracts, so that `AccessControlUnauthorizedAccount` names the role.
pub const ROLE_NAMES: [&str; 6] = [
    "LOCKER_ROLE",
    "MINTER_ROLE",
    "WHITELISTER_ROLE",
    "SLASHER_ROLE",
    "VALIDATOR_ROLE",
    "MODEL_TRAINER_ROLE",
];

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut errors = HashMap::new();
        for artifact in [
            artifacts::PIN_TOKEN,
            artifacts::STAKING_MANAGER,
            artifacts::TRAINING_MANAGER,
            artifacts::SETTLEMENT_REGISTRY,
            artifacts::EPOCH_EMISSIONS,
        ] {
            // The artifacts are compiled into the binary and checked by the test suite, so a
            // parse failure here is a build defect, not an input error.
            let abi = parse_abi(artifact);
            for error in abi.errors() {
                errors.insert(error.selector().0, error.clone());
            }
        }
        let mut roles: HashMap<B256, &'static str> = ROLE_NAMES
            .iter()
            .map(|name| (keccak256(name.as_bytes()), *name))
            .collect();
        roles.insert(B256::ZERO, "DEFAULT_ADMIN_ROLE");
        Catalog { errors, roles }
    })
}

fn parse_abi(artifact: &str) -> JsonAbi {
    #[derive(serde::Deserialize)]
    struct Artifact {
        abi: JsonAbi,
    }
    serde_json::from_str::<Artifact>(artifact)
        .map(|a| a.abi)
        .unwrap_or_default()
}

/// Decodes `data` as one of the contracts' custom errors, `Error(string)` or `Panic(uint256)`.
/// Returns `None` for data no known error matches.
#[must_use]
pub fn decode(data: &Bytes) -> Option<DecodedRevert> {
    let selector: [u8; 4] = data.get(..4)?.try_into().ok()?;
    if selector == Revert::SELECTOR {
        let revert = Revert::abi_decode(data).ok()?;
        return Some(DecodedRevert {
            name: "Error".into(),
            args: vec![("reason".into(), revert.reason)],
        });
    }
    if selector == Panic::SELECTOR {
        let panic = Panic::abi_decode(data).ok()?;
        let code = panic.code;
        let what = panic
            .kind()
            .map_or_else(|| "unknown panic".to_string(), |k| k.to_string());
        return Some(DecodedRevert {
            name: "Panic".into(),
            args: vec![("code".into(), format!("{code:#x} ({what})"))],
        });
    }
    let catalog = catalog();
    let error = catalog.errors.get(&selector)?;
    let values = error.abi_decode_input(&data[4..]).ok()?;
    let args = error
        .inputs
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (param, value))| {
            let name = if param.name.is_empty() {
                format!("arg{i}")
            } else {
                param.name.trim_end_matches('_').to_string()
            };
            let rendered = render(
                &name,
                param.internal_type.as_ref().map(|t| t.to_string()),
                &value,
                catalog,
            );
            (name, rendered)
        })
        .collect();
    Some(DecodedRevert {
        name: error.name.clone(),
        args,
    })
}

/// Parameter names whose values are PIN amounts in wei.
const AMOUNT_PARAMS: [&str; 15] = [
    "amount",
    "stake",
    "minimum",
    "active",
    "requested",
    "staked",
    "budget",
    "balance",
    "needed",
    "allowance",
    "cap",
    "support",
    "totalStake",
    "cumulativeAmount",
    "claimed",
];

const RUN_STATUS: [&str; 4] = ["None", "Registered", "Running", "Done"];

fn render(
    name: &str,
    internal_type: Option<String>,
    value: &DynSolValue,
    catalog: &Catalog,
) -> String {
    match value {
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Uint(v, _) => {
            let is_run_status = internal_type
                .as_deref()
                .is_some_and(|t| t.ends_with("RunStatus"));
            if is_run_status {
                let i = usize::try_from(*v).unwrap_or(usize::MAX);
                return RUN_STATUS
                    .get(i)
                    .map_or_else(|| v.to_string(), |s| (*s).to_string());
            }
            if AMOUNT_PARAMS.contains(&name) || name.ends_with("Supply") {
                return Pin::from_wei(*v).to_string();
            }
            if name.ends_with("At") || name == "now" {
                return format!("{v} (unix time)");
            }
            v.to_string()
        }
        DynSolValue::FixedBytes(word, 32) => catalog
            .roles
            .get(word)
            .map_or_else(|| word.to_string(), |role| (*role).to_string()),
        DynSolValue::String(s) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, U256};
    use alloy::sol_types::SolError;

    use super::*;
    use crate::bindings::{StakingManager, TrainingManager};

    #[test]
    fn every_artifact_contributes_its_errors() {
        let names: Vec<&str> = catalog().errors.values().map(|e| e.name.as_str()).collect();
        for expected in [
            "ERC20ExceededCap",
            "StakingBelowMinimum",
            "TrainingNotParticipant",
            "AccessControlUnauthorizedAccount",
            "AlreadyPublished",
            "InvalidProof",
            "QuorumNotReached",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from the decoder's catalog"
            );
        }
    }

    #[test]
    fn custom_errors_decode_with_rendered_arguments() {
        let node = Address::repeat_byte(0x11);
        let data = StakingManager::StakingBelowMinimum {
            node,
            stake: U256::from(5_000u64) * U256::from(10u64).pow(U256::from(18u64)),
            minimum: U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64)),
        }
        .abi_encode();
        let decoded = decode(&data.into()).expect("decodes");
        assert_eq!(decoded.name, "StakingBelowMinimum");
        assert_eq!(decoded.arg("node"), Some(node.to_checksum(None).as_str()));
        assert_eq!(decoded.arg("stake"), Some("5000 PIN"));
        assert_eq!(
            decoded.to_string(),
            format!(
                "StakingBelowMinimum(node: {}, stake: 5000 PIN, minimum: 10000 PIN)",
                node.to_checksum(None)
            )
        );

        let data = TrainingManager::TrainingWrongStatus {
            runId: U256::from(3u64),
            status: 1,
            required: 2,
        }
        .abi_encode();
        let decoded = decode(&data.into()).expect("decodes");
        assert_eq!(decoded.arg("status"), Some("Registered"));
        assert_eq!(decoded.arg("required"), Some("Running"));

        let data = StakingManager::AccessControlUnauthorizedAccount {
            account: node,
            neededRole: keccak256("SLASHER_ROLE"),
        }
        .abi_encode();
        assert_eq!(
            decode(&data.into()).expect("decodes").arg("neededRole"),
            Some("SLASHER_ROLE")
        );
    }

    #[test]
    fn builtin_reverts_decode_and_garbage_does_not() {
        let data = Revert::from("no").abi_encode();
        assert_eq!(
            decode(&data.into()).expect("Error(string)").arg("reason"),
            Some("no")
        );
        let data = Panic::from(0x11u64).abi_encode();
        let panic = decode(&data.into()).expect("Panic(uint256)");
        assert!(panic.arg("code").is_some_and(|c| c.starts_with("0x11")));
        assert_eq!(decode(&Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef])), None);
        assert_eq!(decode(&Bytes::from_static(&[0x01])), None);
        // A known selector with truncated arguments is not decoded into nonsense.
        let mut data = StakingManager::StakingZeroAmount {}.abi_encode();
        data.truncate(4);
        assert!(decode(&data.clone().into()).is_some());
        let data = StakingManager::StakingNotWhitelisted {
            node: Address::ZERO,
        }
        .abi_encode();
        assert_eq!(decode(&Bytes::copy_from_slice(&data[..20])), None);
    }
}
