//! Where the protocol's contracts live on a chain, recorded in the data directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use crate::units::Pin;
use crate::{Error, Result};

/// Addresses and parameters of one deployment of the PIN contracts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Chain the contracts are on.
    pub chain_id: u64,
    /// The account that deployed them and holds the admin roles.
    pub admin: Address,
    /// `PINToken`.
    pub token: Address,
    /// `StakingManager`.
    pub staking: Address,
    /// `TrainingManager`.
    pub training: Address,
    /// `SettlementRegistry` (zero in records written before it existed).
    #[serde(default)]
    pub settlements: Address,
    /// `EpochEmissions`, holder of the token's minter role (zero in records written before it
    /// existed).
    #[serde(default)]
    pub emissions: Address,
    /// Block of the last deployment transaction.
    pub block: u64,
}

/// Protocol parameters fixed at deployment (the admin can change the minimum stake, unbonding
/// period and challenge window later; the epoch schedule is immutable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeployParams {
    /// Maximum PIN supply.
    pub supply_cap: Pin,
    /// Minimum active stake of a compute node.
    pub minimum_stake: Pin,
    /// Seconds between unstaking and withdrawing.
    pub unbonding_period: u64,
    /// Seconds after a run ends during which its attestations can be challenged.
    pub challenge_window: u64,
    /// Seconds per emission epoch.
    pub epoch_length: u64,
    /// PIN minted per epoch when its Merkle root finalises (less once the cap leaves less room).
    pub emission_per_epoch: Pin,
    /// Seconds of the window after an epoch ends in which validators commit to their weights,
    /// and again of the window after it in which they reveal them; roots are proposed after
    /// both, `2 · reveal_window` after the epoch ends. Nonzero.
    pub reveal_window: u64,
}

const HOUR: u64 = 60 * 60;
const DAY: u64 = 24 * HOUR;

impl Default for DeployParams {
    /// The defaults of DESIGN.md: 10,000 PIN minimum stake, 7-day unbonding, 7-day challenge
    /// window; a one-billion PIN cap. Emissions: daily epochs of 100,000 PIN (a placeholder
    /// schedule, about 3.65 % of the cap a year), with an hour to commit weights and an hour to
    /// reveal them after each epoch (roots from two hours after it ends).
    fn default() -> Self {
        Self {
            supply_cap: Pin::whole(1_000_000_000),
            minimum_stake: Pin::whole(10_000),
            unbonding_period: 7 * DAY,
            challenge_window: 7 * DAY,
            epoch_length: DAY,
            emission_per_epoch: Pin::whole(100_000),
            reveal_window: HOUR,
        }
    }
}

impl Deployment {
    /// Reads the record at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotDeployed {
                    path: path.display().to_string(),
                });
            }
            Err(e) => return Err(record_error(path, &e)),
        };
        serde_json::from_str(&text).map_err(|e| record_error(path, &e))
    }

    /// Writes the record to `path` atomically (a temporary file renamed over it), so a crash
    /// leaves either the old record or the new one.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| record_error(path, &e))?;
        }
        let tmp = tmp_path(path);
        let text = serde_json::to_string_pretty(self).map_err(|e| record_error(path, &e))?;
        let mut file = fs::File::create(&tmp).map_err(|e| record_error(&tmp, &e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| record_error(&tmp, &e))?;
        fs::rename(&tmp, path).map_err(|e| record_error(path, &e))
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

fn record_error(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::DeploymentRecord {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}
