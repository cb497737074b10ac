//! Contract bindings generated from the committed artifacts in `contracts/artifacts/`.
//!
//! The artifacts are the one source of truth: the ABIs and bytecode here and the JSON ABIs used
//! to decode reverts ([`crate::revert`]) are both read from them at compile time.

#![allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(all_derives = false)]
    PINToken,
    "../../contracts/artifacts/PINToken.json"
);

alloy::sol!(
    #[sol(all_derives = false)]
    StakingManager,
    "../../contracts/artifacts/StakingManager.json"
);

alloy::sol!(
    #[sol(all_derives = false)]
    TrainingManager,
    "../../contracts/artifacts/TrainingManager.json"
);

alloy::sol!(
    #[sol(all_derives = false)]
    SettlementRegistry,
    "../../contracts/artifacts/SettlementRegistry.json"
);

alloy::sol!(
    #[sol(all_derives = false)]
    EpochEmissions,
    "../../contracts/artifacts/EpochEmissions.json"
);

alloy::sol! {
    /// EIP-2612 permit, signed off-chain so staking and funding need no separate approval.
    struct Permit {
        address owner;
        address spender;
        uint256 value;
        uint256 nonce;
        uint256 deadline;
    }
}

/// The committed artifact JSON of each contract, for runtime ABI use (revert decoding).
pub mod artifacts {
    /// `contracts/artifacts/PINToken.json`.
    pub const PIN_TOKEN: &str = include_str!("../../../contracts/artifacts/PINToken.json");
    /// `contracts/artifacts/StakingManager.json`.
    pub const STAKING_MANAGER: &str =
        include_str!("../../../contracts/artifacts/StakingManager.json");
    /// `contracts/artifacts/TrainingManager.json`.
    pub const TRAINING_MANAGER: &str =
        include_str!("../../../contracts/artifacts/TrainingManager.json");
    /// `contracts/artifacts/SettlementRegistry.json`.
    pub const SETTLEMENT_REGISTRY: &str =
        include_str!("../../../contracts/artifacts/SettlementRegistry.json");
    /// `contracts/artifacts/EpochEmissions.json`.
    pub const EPOCH_EMISSIONS: &str =
        include_str!("../../../contracts/artifacts/EpochEmissions.json");
}
