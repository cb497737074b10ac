//! The typed client of the PIN protocol: every operation of the contracts, over any [`Ledger`].
//!
//! Writes are simulated before they are sent (by the ledger), so an operation the contracts
//! refuse returns [`Error::Contract`] with the decoded error and changes nothing. Operations
//! that move the caller's tokens into a contract use an EIP-2612 permit signed here, so each is
//! one transaction and a refusal leaves no allowance behind.

use std::fmt;
use std::str::FromStr;

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolConstructor, SolEvent, SolStruct, eip712_domain};
use serde::{Deserialize, Serialize};

use crate::bindings::{
    EpochEmissions, PINToken, Permit, SettlementRegistry, StakingManager, TrainingManager,
};
use crate::deployment::{DeployParams, Deployment};
use crate::ledger::{Ledger, Receipt, TxRequest};
use crate::revert;
use crate::units::Pin;
use crate::weights::{EpochSchedule, RevealedWeights, sorted_weights};
use crate::{Error, Result};

/// Identifier of a training run (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub u64);

/// Identifier of a registered model (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelId(pub u64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Life cycle of a training run, as the contract stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// No such run.
    None,
    /// Registered, budget escrowed; nodes may join.
    Registered,
    /// Started; joined nodes attest.
    Running,
    /// Ended; challenge window, then claims.
    Done,
}

impl RunStatus {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Registered,
            2 => Self::Running,
            3 => Self::Done,
            _ => Self::None,
        }
    }
}

/// A role in the protocol, and the contracts that hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Admin of every contract (grants and revokes the other roles).
    Admin,
    /// Mints PIN (token).
    Minter,
    /// Adds and removes compute nodes from the whitelist (staking).
    Whitelister,
    /// Slashes stake (staking).
    Slasher,
    /// Validator: stakes for voting power (staking) and challenges attestations (training).
    Validator,
    /// Model trainer: registers models and funds runs (training).
    Trainer,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 6] = [
        Self::Admin,
        Self::Minter,
        Self::Whitelister,
        Self::Slasher,
        Self::Validator,
        Self::Trainer,
    ];

    /// The role's `bytes32` identifier in the contracts.
    #[must_use]
    pub fn id(self) -> B256 {
        match self {
            Self::Admin => B256::ZERO,
            Self::Minter => keccak256("MINTER_ROLE"),
            Self::Whitelister => keccak256("WHITELISTER_ROLE"),
            Self::Slasher => keccak256("SLASHER_ROLE"),
            Self::Validator => keccak256("VALIDATOR_ROLE"),
            Self::Trainer => keccak256("MODEL_TRAINER_ROLE"),
        }
    }

    /// The contracts in which the role is granted.
    fn contracts(self, d: &Deployment) -> Vec<Address> {
        match self {
            Self::Admin => vec![d.token, d.staking, d.training],
            Self::Minter => vec![d.token],
            Self::Whitelister | Self::Slasher => vec![d.staking],
            Self::Validator => vec![d.staking, d.training],
            Self::Trainer => vec![d.training],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Admin => "admin",
            Self::Minter => "minter",
            Self::Whitelister => "whitelister",
            Self::Slasher => "slasher",
            Self::Validator => "validator",
            Self::Trainer => "trainer",
        })
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected admin, minter, whitelister, slasher, validator or trainer)")]
pub struct UnknownRole(String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.to_string() == s.to_lowercase())
            .ok_or_else(|| UnknownRole(s.into()))
    }
}

/// Everything the protocol knows about one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountStatus {
    /// The account.
    pub address: Address,
    /// PIN in its wallet.
    pub balance: Pin,
    /// Active stake.
    pub stake: Pin,
    /// Stake unbonding.
    pub unbonding: Pin,
    /// When the unbonding stake can be withdrawn (unix seconds; 0 if none).
    pub unbonding_release_at: u64,
    /// On the compute-node whitelist.
    pub whitelisted: bool,
    /// Whitelisted with at least the minimum stake: may join runs.
    pub eligible: bool,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Runs joined.
    pub runs: Vec<RunId>,
    /// Runs joined and not yet settled: while any is open, stake cannot be withdrawn.
    pub open_runs: u64,
}

/// A training run as the contract stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// The run.
    pub id: RunId,
    /// Its model.
    pub model_id: ModelId,
    /// The model's name.
    pub model_name: String,
    /// Who funds and drives it.
    pub trainer: Address,
    /// Where it is in its life cycle.
    pub status: RunStatus,
    /// Escrowed budget.
    pub budget: Pin,
    /// Attestations not invalidated.
    pub valid_attestations: u64,
    /// When claims open (unix seconds; 0 until the run ends).
    pub claimable_at: u64,
    /// Whether the trainer took the budget back (no valid attestation).
    pub reclaimed: bool,
}

/// One node's part in a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Participation {
    /// Joined the run.
    pub joined: bool,
    /// Valid attestations.
    pub attestations: u64,
    /// Already claimed.
    pub claimed: bool,
    /// Endpoint given when joining.
    pub endpoint: String,
}

/// Totals across the protocol's contracts, for solvency checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Every PIN ever minted.
    pub minted: Pin,
    /// Every PIN ever burned.
    pub burned: Pin,
    /// Supply now.
    pub supply: Pin,
    /// Stake the staking contract owes (active + unbonding).
    pub staked: Pin,
    /// PIN the staking contract holds.
    pub staking_balance: Pin,
    /// Budget the training contract owes.
    pub escrowed: Pin,
    /// PIN the training contract holds.
    pub training_balance: Pin,
}

/// What a claim paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Claimed {
    /// Each run claimed and its reward.
    pub runs: Vec<(RunId, Pin)>,
    /// The sum paid.
    pub total: Pin,
    /// The claim transaction's receipt.
    #[serde(skip)]
    pub receipt: Receipt,
}

/// One fill of a published settlement (`SettlementRegistry.Term`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementTerm {
    /// The party.
    pub party: Address,
    /// Index of the resource in the challenge.
    pub resource: u32,
    /// Quantity in the resource's units: positive received, negative delivered.
    pub quantity: i128,
    /// Price per unit, in wei.
    pub price: u128,
}

/// A settlement as the registry stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettlementRecord {
    /// The challenge.
    pub challenge_id: B256,
    /// Hash of the full settlement.
    pub settlement_hash: B256,
    /// The winning miner.
    pub winner: Address,
    /// The validator that published it.
    pub publisher: Address,
    /// When it was published (unix seconds).
    pub published_at: u64,
    /// The compact terms.
    pub terms: Vec<SettlementTerm>,
}

/// Where the epoch emissions stand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmissionStatus {
    /// The epoch the chain's clock is in.
    pub current_epoch: u64,
    /// The next epoch to finalise (the only one taking proposals).
    pub next_epoch: u64,
    /// The root claims are checked against (zero before the first finalisation).
    pub latest_root: B256,
    /// Every PIN minted by the emission contract.
    pub emitted: Pin,
    /// Every PIN paid out by claims.
    pub claimed: Pin,
    /// PIN the emission contract holds.
    pub balance: Pin,
}

/// The PIN protocol on one ledger.
#[derive(Debug)]
pub struct Protocol<L> {
    ledger: L,
    deployment: Deployment,
}

fn u64_of(v: U256, function: &'static str) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::BadReturn {
        function,
        reason: format!("{v} does not fit u64"),
    })
}

/// Turns raw revert data into the contract's named error where one matches.
fn decoded(e: Error) -> Error {
    match e {
        Error::Reverted { data } => match revert::decode(&data) {
            Some(decoded) => Error::Contract(decoded),
            None => Error::Reverted { data },
        },
        other => other,
    }
}

fn event<E: SolEvent>(receipt: &Receipt, from: Address) -> Result<E> {
    receipt
        .logs
        .iter()
        .filter(|log| log.address == from)
        .find_map(|log| E::decode_log_data(&log.data).ok())
        .ok_or(Error::MissingEvent {
            tx_hash: receipt.tx_hash,
            event: E::SIGNATURE,
        })
}

impl<L: Ledger> Protocol<L> {
    /// Deploys the contracts from `admin`, who receives every admin role; gives the training
    /// manager the slasher and locker roles it needs for challenges, and the epoch emission
    /// contract the token's minter role.
    pub async fn deploy(
        ledger: L,
        admin: &PrivateKeySigner,
        params: &DeployParams,
    ) -> Result<Self> {
        let admin_address = admin.address();
        let create = |bytecode: &Bytes, args: Vec<u8>| {
            let mut code = bytecode.to_vec();
            code.extend(args);
            TxRequest::create(code)
        };
        let token_args = PINToken::constructorCall {
            admin: admin_address,
            cap_: params.supply_cap.wei(),
        }
        .abi_encode();
        let token = deployed(
            ledger
                .send(admin, create(&PINToken::BYTECODE, token_args))
                .await
                .map_err(decoded)?,
        )?;
        let staking_args = StakingManager::constructorCall {
            admin: admin_address,
            token_: token,
            minimumStake_: params.minimum_stake.wei(),
            unbondingPeriod_: U256::from(params.unbonding_period),
        }
        .abi_encode();
        let staking = deployed(
            ledger
                .send(admin, create(&StakingManager::BYTECODE, staking_args))
                .await
                .map_err(decoded)?,
        )?;
        let training_args = TrainingManager::constructorCall {
            admin: admin_address,
            token_: token,
            staking_: staking,
            challengeWindow_: U256::from(params.challenge_window),
        }
        .abi_encode();
        let training = deployed(
            ledger
                .send(admin, create(&TrainingManager::BYTECODE, training_args))
                .await
                .map_err(decoded)?,
        )?;
        let grant = StakingManager::grantRoleCall {
            role: Role::Slasher.id(),
            account: training,
        };
        ledger
            .send(admin, TxRequest::call(staking, grant.abi_encode()))
            .await
            .map_err(decoded)?;
        // And the locker role: a node's stake stays bound to each run it joined until it settles.
        let grant = StakingManager::grantRoleCall {
            role: keccak256("LOCKER_ROLE"),
            account: training,
        };
        ledger
            .send(admin, TxRequest::call(staking, grant.abi_encode()))
            .await
            .map_err(decoded)?;
        let settlements_args =
            SettlementRegistry::constructorCall { staking_: staking }.abi_encode();
        let settlements = deployed(
            ledger
                .send(
                    admin,
                    create(&SettlementRegistry::BYTECODE, settlements_args),
                )
                .await
                .map_err(decoded)?,
        )?;
        let emissions_args = EpochEmissions::constructorCall {
            token_: token,
            staking_: staking,
            epochLength_: U256::from(params.epoch_length),
            emissionPerEpoch_: params.emission_per_epoch.wei(),
            revealWindow_: U256::from(params.reveal_window),
        }
        .abi_encode();
        let emissions = deployed(
            ledger
                .send(admin, create(&EpochEmissions::BYTECODE, emissions_args))
                .await
                .map_err(decoded)?,
        )?;
        // The emission contract mints each epoch's emission when its root finalises.
        let grant = PINToken::grantRoleCall {
            role: Role::Minter.id(),
            account: emissions,
        };
        let receipt = ledger
            .send(admin, TxRequest::call(token, grant.abi_encode()))
            .await
            .map_err(decoded)?;
        let chain_id = ledger.chain_id().await?;
        let deployment = Deployment {
            chain_id,
            admin: admin_address,
            token,
            staking,
            training,
            settlements,
            emissions,
            block: receipt.block_number,
        };
        Ok(Self { ledger, deployment })
    }

    /// A client of an existing deployment.
    #[must_use]
    pub const fn new(ledger: L, deployment: Deployment) -> Self {
        Self { ledger, deployment }
    }

    /// A client of an existing deployment, after checking that the token is really there (a
    /// record left over from a reset chain points at empty addresses).
    pub async fn attach(ledger: L, deployment: Deployment) -> Result<Self> {
        let protocol = Self::new(ledger, deployment);
        let token = protocol.deployment.token;
        match protocol.read(token, PINToken::symbolCall {}).await {
            Ok(symbol) if symbol == "PIN" => Ok(protocol),
            _ => Err(Error::NotDeployed {
                path: format!(
                    "{token} (the recorded token address has no PIN contract; was the chain reset?)"
                ),
            }),
        }
    }

    /// Where the contracts are.
    #[must_use]
    pub const fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The ledger underneath.
    #[must_use]
    pub const fn ledger(&self) -> &L {
        &self.ledger
    }

    async fn read<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return> {
        let output = self
            .ledger
            .call(Address::ZERO, &TxRequest::call(to, call.abi_encode()))
            .await
            .map_err(decoded)?;
        C::abi_decode_returns(&output).map_err(|e| Error::BadReturn {
            function: C::SIGNATURE,
            reason: e.to_string(),
        })
    }

    async fn write<C: SolCall>(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        call: C,
    ) -> Result<Receipt> {
        self.ledger
            .send(signer, TxRequest::call(to, call.abi_encode()))
            .await
            .map_err(decoded)
    }

    /// Signs an EIP-2612 permit letting `spender` take `value` of the signer's PIN.
    async fn permit(
        &self,
        signer: &PrivateKeySigner,
        spender: Address,
        value: U256,
    ) -> Result<(U256, u8, B256, B256)> {
        let owner = signer.address();
        let nonce = self
            .read(self.deployment.token, PINToken::noncesCall { owner })
            .await?;
        // An hour of slack covers slow inclusion on a real chain; the permit is single-use anyway.
        let deadline = U256::from(self.ledger.timestamp().await? + 3600);
        let domain = eip712_domain! {
            name: "Prime Intellect Network",
            version: "1",
            chain_id: self.deployment.chain_id,
            verifying_contract: self.deployment.token,
        };
        let permit = Permit {
            owner,
            spender,
            value,
            nonce,
            deadline,
        };
        let hash = permit.eip712_signing_hash(&domain);
        let signature = signer
            .sign_hash_sync(&hash)
            .map_err(|e| crate::rpc::RpcError::Signing(e.to_string()))?;
        let v = if signature.v() { 28 } else { 27 };
        Ok((deadline, v, signature.r().into(), signature.s().into()))
    }

    // ------------------------------------------------------------------------------------
    // Token and roles
    // ------------------------------------------------------------------------------------

    /// Mints `amount` to `to` (minter role).
    pub async fn mint(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        amount: Pin,
    ) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.token,
            PINToken::mintCall {
                to,
                amount: amount.wei(),
            },
        )
        .await
    }

    /// Transfers `amount` of the signer's PIN to `to`.
    pub async fn transfer(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        amount: Pin,
    ) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.token,
            PINToken::transferCall {
                to,
                value: amount.wei(),
            },
        )
        .await
    }

    /// Grants `role` to `account` in every contract that has it. All grants are simulated
    /// before any is sent.
    pub async fn grant(
        &self,
        signer: &PrivateKeySigner,
        role: Role,
        account: Address,
    ) -> Result<Vec<Receipt>> {
        let calldata = PINToken::grantRoleCall {
            role: role.id(),
            account,
        }
        .abi_encode();
        self.write_each(signer, role.contracts(&self.deployment), calldata)
            .await
    }

    /// Revokes `role` from `account` in every contract that has it.
    pub async fn revoke(
        &self,
        signer: &PrivateKeySigner,
        role: Role,
        account: Address,
    ) -> Result<Vec<Receipt>> {
        let calldata = PINToken::revokeRoleCall {
            role: role.id(),
            account,
        }
        .abi_encode();
        self.write_each(signer, role.contracts(&self.deployment), calldata)
            .await
    }

    async fn write_each(
        &self,
        signer: &PrivateKeySigner,
        targets: Vec<Address>,
        calldata: Vec<u8>,
    ) -> Result<Vec<Receipt>> {
        let from = signer.address();
        for &to in &targets {
            self.ledger
                .call(from, &TxRequest::call(to, calldata.clone()))
                .await
                .map_err(decoded)?;
        }
        let mut receipts = Vec::with_capacity(targets.len());
        for to in targets {
            receipts.push(
                self.ledger
                    .send(signer, TxRequest::call(to, calldata.clone()))
                    .await
                    .map_err(decoded)?,
            );
        }
        Ok(receipts)
    }

    /// The roles `account` holds (a role counts if held in all the contracts that have it).
    pub async fn roles(&self, account: Address) -> Result<Vec<Role>> {
        let mut held = Vec::new();
        for role in Role::ALL {
            let mut all = true;
            for contract in role.contracts(&self.deployment) {
                all &= self
                    .read(
                        contract,
                        PINToken::hasRoleCall {
                            role: role.id(),
                            account,
                        },
                    )
                    .await?;
            }
            if all {
                held.push(role);
            }
        }
        Ok(held)
    }

    // ------------------------------------------------------------------------------------
    // Staking
    // ------------------------------------------------------------------------------------

    /// Adds `node` to the compute-node whitelist (whitelister role).
    pub async fn whitelist(&self, signer: &PrivateKeySigner, node: Address) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.staking,
            StakingManager::whitelistCall { node },
        )
        .await
    }

    /// Removes `node` from the whitelist (whitelister role).
    pub async fn remove_from_whitelist(
        &self,
        signer: &PrivateKeySigner,
        node: Address,
    ) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.staking,
            StakingManager::removeFromWhitelistCall { node },
        )
        .await
    }

    /// Stakes `amount` of the signer's PIN, with a permit: one transaction.
    pub async fn stake(&self, signer: &PrivateKeySigner, amount: Pin) -> Result<Receipt> {
        let (deadline, v, r, s) = self
            .permit(signer, self.deployment.staking, amount.wei())
            .await?;
        let call = StakingManager::stakeWithPermitCall {
            amount: amount.wei(),
            deadline,
            v,
            r,
            s,
        };
        self.write(signer, self.deployment.staking, call).await
    }

    /// Starts unbonding `amount` of the signer's active stake.
    pub async fn unstake(&self, signer: &PrivateKeySigner, amount: Pin) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.staking,
            StakingManager::unstakeCall {
                amount: amount.wei(),
            },
        )
        .await
    }

    /// Withdraws the signer's unbonded stake; returns the amount.
    pub async fn withdraw(&self, signer: &PrivateKeySigner) -> Result<(Pin, Receipt)> {
        let receipt = self
            .write(
                signer,
                self.deployment.staking,
                StakingManager::withdrawCall {},
            )
            .await?;
        let withdrawn: StakingManager::Withdrawn = event(&receipt, self.deployment.staking)?;
        Ok((Pin::from_wei(withdrawn.amount), receipt))
    }

    /// Slashes `amount` of `node`'s stake citing `evidence` (slasher role).
    pub async fn slash(
        &self,
        signer: &PrivateKeySigner,
        node: Address,
        amount: Pin,
        evidence: B256,
    ) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.staking,
            StakingManager::slashCall {
                node,
                amount: amount.wei(),
                evidence,
            },
        )
        .await
    }

    /// The minimum active stake.
    pub async fn minimum_stake(&self) -> Result<Pin> {
        self.read(self.deployment.staking, StakingManager::minimumStakeCall {})
            .await
            .map(Pin::from_wei)
    }

    /// Active stake of `validator` if it holds the validator role, else zero.
    pub async fn validator_stake(&self, validator: Address) -> Result<Pin> {
        self.read(
            self.deployment.staking,
            StakingManager::validatorStakeCall { validator },
        )
        .await
        .map(Pin::from_wei)
    }

    // ------------------------------------------------------------------------------------
    // Training
    // ------------------------------------------------------------------------------------

    /// Registers model `name` with a first run funded with `budget` (trainer role).
    pub async fn register_model(
        &self,
        signer: &PrivateKeySigner,
        name: &str,
        budget: Pin,
    ) -> Result<(ModelId, RunId)> {
        let (deadline, v, r, s) = self
            .permit(signer, self.deployment.training, budget.wei())
            .await?;
        let call = TrainingManager::registerModelWithPermitCall {
            name: name.into(),
            budget: budget.wei(),
            deadline,
            v,
            r,
            s,
        };
        let receipt = self.write(signer, self.deployment.training, call).await?;
        let run: TrainingManager::RunRegistered = event(&receipt, self.deployment.training)?;
        Ok((
            ModelId(u64_of(run.modelId, "RunRegistered")?),
            RunId(u64_of(run.runId, "RunRegistered")?),
        ))
    }

    /// Registers another run of model `model` funded with `budget` (its trainer).
    pub async fn create_run(
        &self,
        signer: &PrivateKeySigner,
        model: ModelId,
        budget: Pin,
    ) -> Result<RunId> {
        let (deadline, v, r, s) = self
            .permit(signer, self.deployment.training, budget.wei())
            .await?;
        let call = TrainingManager::createRunWithPermitCall {
            modelId: U256::from(model.0),
            budget: budget.wei(),
            deadline,
            v,
            r,
            s,
        };
        let receipt = self.write(signer, self.deployment.training, call).await?;
        let run: TrainingManager::RunRegistered = event(&receipt, self.deployment.training)?;
        Ok(RunId(u64_of(run.runId, "RunRegistered")?))
    }

    /// Starts `run` (its trainer).
    pub async fn start_run(&self, signer: &PrivateKeySigner, run: RunId) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.training,
            TrainingManager::startRunCall {
                runId: U256::from(run.0),
            },
        )
        .await
    }

    /// Joins `run` as the signer, reachable at `endpoint`.
    pub async fn join_run(
        &self,
        signer: &PrivateKeySigner,
        run: RunId,
        endpoint: &str,
    ) -> Result<Receipt> {
        let call = TrainingManager::joinRunCall {
            runId: U256::from(run.0),
            endpoint: endpoint.into(),
        };
        self.write(signer, self.deployment.training, call).await
    }

    /// Leaves `run` before attesting anything, releasing the stake lock of the join.
    pub async fn leave_run(&self, signer: &PrivateKeySigner, run: RunId) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.training,
            TrainingManager::leaveRunCall {
                runId: U256::from(run.0),
            },
        )
        .await
    }

    /// Attests `digest` in `run` as the signer.
    pub async fn attest(
        &self,
        signer: &PrivateKeySigner,
        run: RunId,
        digest: B256,
    ) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.training,
            TrainingManager::attestCall {
                runId: U256::from(run.0),
                digest,
            },
        )
        .await
    }

    /// Ends `run` (its trainer); returns when its challenge window closes.
    pub async fn end_run(&self, signer: &PrivateKeySigner, run: RunId) -> Result<u64> {
        let receipt = self
            .write(
                signer,
                self.deployment.training,
                TrainingManager::endRunCall {
                    runId: U256::from(run.0),
                },
            )
            .await?;
        let ended: TrainingManager::RunEnded = event(&receipt, self.deployment.training)?;
        u64_of(ended.challengeDeadline, "RunEnded")
    }

    /// Invalidates attestation `digest` of `run` and slashes its node `slash` (validator role).
    pub async fn challenge(
        &self,
        signer: &PrivateKeySigner,
        run: RunId,
        digest: B256,
        slash: Pin,
        evidence: B256,
    ) -> Result<Receipt> {
        let call = TrainingManager::challengeCall {
            runId: U256::from(run.0),
            digest,
            slashAmount: slash.wei(),
            evidence,
        };
        self.write(signer, self.deployment.training, call).await
    }

    /// Takes back the budget of a finished run without valid attestations (its trainer).
    pub async fn reclaim(&self, signer: &PrivateKeySigner, run: RunId) -> Result<Receipt> {
        self.write(
            signer,
            self.deployment.training,
            TrainingManager::reclaimCall {
                runId: U256::from(run.0),
            },
        )
        .await
    }

    /// Claims the signer's rewards for `runs`, or, if `None`, for every run it can claim: the
    /// finished runs with its unclaimed valid attestations whose window has closed (or, if none
    /// has, those still in their window, so the contract says why they cannot be claimed yet).
    pub async fn claim(
        &self,
        signer: &PrivateKeySigner,
        runs: Option<Vec<RunId>>,
    ) -> Result<Claimed> {
        let node = signer.address();
        let runs = match runs {
            Some(runs) => runs,
            None => self.claimable_runs(node).await?,
        };
        if runs.is_empty() {
            return Err(Error::NothingToClaim { account: node });
        }
        let call = TrainingManager::claimCall {
            runIds: runs.iter().map(|r| U256::from(r.0)).collect(),
        };
        let receipt = self.write(signer, self.deployment.training, call).await?;
        let mut paid = Vec::new();
        let mut total = Pin::ZERO;
        for log in receipt
            .logs
            .iter()
            .filter(|l| l.address == self.deployment.training)
        {
            if let Ok(claimed) = TrainingManager::RewardClaimed::decode_log_data(&log.data) {
                let amount = Pin::from_wei(claimed.amount);
                total = total.checked_add(amount).unwrap_or(total);
                paid.push((RunId(u64_of(claimed.runId, "RewardClaimed")?), amount));
            }
        }
        Ok(Claimed {
            runs: paid,
            total,
            receipt,
        })
    }

    async fn claimable_runs(&self, node: Address) -> Result<Vec<RunId>> {
        let now = self.ledger.timestamp().await?;
        let (mut closed, mut open) = (Vec::new(), Vec::new());
        for run in self.runs_of(node).await? {
            let part = self.participation(run, node).await?;
            // Runs without valid attestations are claimed too: claiming (for zero) settles them
            // and releases the stake lock.
            if !part.joined || part.claimed {
                continue;
            }
            let info = self.run(run).await?;
            if info.status != RunStatus::Done {
                continue;
            }
            if info.claimable_at <= now {
                closed.push(run)
            } else {
                open.push(run)
            }
        }
        Ok(if closed.is_empty() { open } else { closed })
    }

    /// Every run `node` joined.
    pub async fn runs_of(&self, node: Address) -> Result<Vec<RunId>> {
        let runs = self
            .read(
                self.deployment.training,
                TrainingManager::runsOfCall { node },
            )
            .await?;
        runs.into_iter()
            .map(|r| u64_of(r, "runsOf").map(RunId))
            .collect()
    }

    /// Run `run` as stored.
    pub async fn run(&self, run: RunId) -> Result<RunInfo> {
        let r = self
            .read(
                self.deployment.training,
                TrainingManager::getRunCall {
                    runId: U256::from(run.0),
                },
            )
            .await?;
        let model = self
            .read(
                self.deployment.training,
                TrainingManager::getModelCall { modelId: r.modelId },
            )
            .await?;
        Ok(RunInfo {
            id: run,
            model_id: ModelId(u64_of(r.modelId, "getRun")?),
            model_name: model.name,
            trainer: r.trainer,
            status: RunStatus::from_u8(r.status),
            budget: Pin::from_wei(r.budget),
            valid_attestations: u64_of(r.validAttestations, "getRun")?,
            claimable_at: u64_of(r.claimableAt, "getRun")?,
            reclaimed: r.reclaimed,
        })
    }

    /// `node`'s part in `run`.
    pub async fn participation(&self, run: RunId, node: Address) -> Result<Participation> {
        let p = self
            .read(
                self.deployment.training,
                TrainingManager::participantOfCall {
                    runId: U256::from(run.0),
                    node,
                },
            )
            .await?;
        Ok(Participation {
            joined: p.joined,
            attestations: u64_of(p.attestations, "participantOf")?,
            claimed: p.claimed,
            endpoint: p.endpoint,
        })
    }

    /// What `node` would receive for `run` if its attestations stood as now.
    pub async fn pending_reward(&self, run: RunId, node: Address) -> Result<Pin> {
        let call = TrainingManager::pendingRewardCall {
            runId: U256::from(run.0),
            node,
        };
        self.read(self.deployment.training, call)
            .await
            .map(Pin::from_wei)
    }

    // ------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------

    /// PIN in `account`'s wallet.
    pub async fn balance(&self, account: Address) -> Result<Pin> {
        self.read(self.deployment.token, PINToken::balanceOfCall { account })
            .await
            .map(Pin::from_wei)
    }

    /// Everything about `account`.
    pub async fn account(&self, account: Address) -> Result<AccountStatus> {
        let balance = self.balance(account).await?;
        let position = self
            .read(
                self.deployment.staking,
                StakingManager::positionOfCall { account },
            )
            .await?;
        let eligible = self
            .read(
                self.deployment.staking,
                StakingManager::isEligibleCall { node: account },
            )
            .await?;
        Ok(AccountStatus {
            address: account,
            balance,
            stake: Pin::from_wei(position.active),
            unbonding: Pin::from_wei(position.unbonding),
            unbonding_release_at: u64_of(position.releaseAt, "positionOf")?,
            whitelisted: position.whitelisted,
            eligible,
            roles: self.roles(account).await?,
            runs: self.runs_of(account).await?,
            open_runs: u64_of(
                self.read(
                    self.deployment.staking,
                    StakingManager::locksOfCall { account },
                )
                .await?,
                "locksOf",
            )?,
        })
    }

    /// Supply and liabilities of the contracts.
    pub async fn totals(&self) -> Result<Totals> {
        let d = &self.deployment;
        Ok(Totals {
            minted: Pin::from_wei(self.read(d.token, PINToken::totalMintedCall {}).await?),
            burned: Pin::from_wei(self.read(d.token, PINToken::totalBurnedCall {}).await?),
            supply: Pin::from_wei(self.read(d.token, PINToken::totalSupplyCall {}).await?),
            staked: Pin::from_wei(
                self.read(d.staking, StakingManager::totalStakedCall {})
                    .await?,
            ),
            staking_balance: self.balance(d.staking).await?,
            escrowed: Pin::from_wei(
                self.read(d.training, TrainingManager::totalEscrowedCall {})
                    .await?,
            ),
            training_balance: self.balance(d.training).await?,
        })
    }

    // ------------------------------------------------------------------------------------
    // Settlements
    // ------------------------------------------------------------------------------------

    /// Publishes the settlement of `challenge_id` (staked validators; once per challenge).
    pub async fn publish_settlement(
        &self,
        signer: &PrivateKeySigner,
        challenge_id: B256,
        settlement_hash: B256,
        winner: Address,
        terms: &[SettlementTerm],
    ) -> Result<Receipt> {
        let call = SettlementRegistry::publishCall {
            challengeId: challenge_id,
            settlementHash: settlement_hash,
            winner,
            terms: terms
                .iter()
                .map(|t| SettlementRegistry::Term {
                    party: t.party,
                    resource: t.resource,
                    quantity: t.quantity,
                    price: t.price,
                })
                .collect(),
        };
        self.write(signer, self.deployment.settlements, call).await
    }

    /// The settlement published for `challenge_id`, if any.
    pub async fn settlement(&self, challenge_id: B256) -> Result<Option<SettlementRecord>> {
        let registry = self.deployment.settlements;
        let published = self
            .read(
                registry,
                SettlementRegistry::isPublishedCall {
                    challengeId: challenge_id,
                },
            )
            .await?;
        if !published {
            return Ok(None);
        }
        let s = self
            .read(
                registry,
                SettlementRegistry::settlementOfCall {
                    challengeId: challenge_id,
                },
            )
            .await?;
        Ok(Some(SettlementRecord {
            challenge_id,
            settlement_hash: s.settlementHash,
            winner: s.winner,
            publisher: s.publisher,
            published_at: s.publishedAt.to::<u64>(),
            terms: s
                .terms
                .iter()
                .map(|t| SettlementTerm {
                    party: t.party,
                    resource: t.resource,
                    quantity: t.quantity,
                    price: t.price,
                })
                .collect(),
        }))
    }

    // ------------------------------------------------------------------------------------
    // Epoch emissions
    // ------------------------------------------------------------------------------------

    /// Proposes `root` (the Merkle root of the cumulative emission table) for `epoch` (staked
    /// validators; once per epoch; from [`EpochSchedule::propose_opens`], after the weights'
    /// reveal window). Finalises the epoch, and mints its emission, if the root's proposers now
    /// hold 2/3 of the validator stake.
    pub async fn propose_root(
        &self,
        signer: &PrivateKeySigner,
        epoch: u64,
        root: B256,
    ) -> Result<Receipt> {
        let call = EpochEmissions::proposeCall {
            epoch: U256::from(epoch),
            root,
        };
        self.write(signer, self.deployment.emissions, call).await
    }

    /// Finalises `epoch` with an already proposed `root` whose proposers now hold 2/3 of the
    /// validator stake (anyone).
    pub async fn finalise_epoch(
        &self,
        signer: &PrivateKeySigner,
        epoch: u64,
        root: B256,
    ) -> Result<Receipt> {
        let call = EpochEmissions::finaliseCall {
            epoch: U256::from(epoch),
            root,
        };
        self.write(signer, self.deployment.emissions, call).await
    }

    /// Claims for `account` what it has not yet received of its running total `cumulative`,
    /// with its Merkle `proof` against the latest root; returns the amount paid.
    pub async fn claim_emission(
        &self,
        signer: &PrivateKeySigner,
        account: Address,
        cumulative: Pin,
        proof: &[B256],
    ) -> Result<(Pin, Receipt)> {
        let call = EpochEmissions::claimCall {
            account,
            cumulativeAmount: cumulative.wei(),
            proof: proof.to_vec(),
        };
        let receipt = self.write(signer, self.deployment.emissions, call).await?;
        let claimed: EpochEmissions::Claimed = event(&receipt, self.deployment.emissions)?;
        Ok((Pin::from_wei(claimed.amount), receipt))
    }

    /// The finalised root of `epoch` (zero if not finalised) and the PIN its finalisation minted.
    pub async fn epoch_root(&self, epoch: u64) -> Result<(B256, Pin)> {
        let e = self.deployment.emissions;
        let epoch = U256::from(epoch);
        let root = self.read(e, EpochEmissions::rootOfCall { epoch }).await?;
        let minted = self
            .read(e, EpochEmissions::emittedInCall { epoch })
            .await?;
        Ok((root, Pin::from_wei(minted)))
    }

    /// Current stake of the validators that proposed `root` for `epoch`, and the total
    /// validator stake.
    pub async fn root_support(&self, epoch: u64, root: B256) -> Result<(Pin, Pin)> {
        let support = self
            .read(
                self.deployment.emissions,
                EpochEmissions::supportOfCall {
                    epoch: U256::from(epoch),
                    root,
                },
            )
            .await?;
        Ok((
            Pin::from_wei(support.support),
            Pin::from_wei(support.totalStake),
        ))
    }

    /// The running total `account` has claimed from the emissions.
    pub async fn emission_claimed(&self, account: Address) -> Result<Pin> {
        let call = EpochEmissions::claimedOfCall { account };
        Ok(Pin::from_wei(
            self.read(self.deployment.emissions, call).await?,
        ))
    }

    /// Where the epoch emissions stand.
    pub async fn emission_status(&self) -> Result<EmissionStatus> {
        let e = self.deployment.emissions;
        Ok(EmissionStatus {
            current_epoch: u64_of(
                self.read(e, EpochEmissions::currentEpochCall {}).await?,
                "currentEpoch",
            )?,
            next_epoch: u64_of(
                self.read(e, EpochEmissions::nextEpochCall {}).await?,
                "nextEpoch",
            )?,
            latest_root: self.read(e, EpochEmissions::latestRootCall {}).await?,
            emitted: Pin::from_wei(self.read(e, EpochEmissions::totalEmittedCall {}).await?),
            claimed: Pin::from_wei(self.read(e, EpochEmissions::totalClaimedCall {}).await?),
            balance: self.balance(e).await?,
        })
    }

    /// The next epoch to finalise (the only one taking root proposals).
    pub async fn next_epoch(&self) -> Result<u64> {
        u64_of(
            self.read(self.deployment.emissions, EpochEmissions::nextEpochCall {})
                .await?,
            "nextEpoch",
        )
    }

    /// The root claims are checked against (zero before the first finalisation).
    pub async fn latest_root(&self) -> Result<B256> {
        self.read(self.deployment.emissions, EpochEmissions::latestRootCall {})
            .await
    }

    /// Sum of the active stake of all validators: what root support is measured against.
    pub async fn total_validator_stake(&self) -> Result<Pin> {
        self.read(
            self.deployment.staking,
            StakingManager::totalValidatorStakeCall {},
        )
        .await
        .map(Pin::from_wei)
    }

    // ------------------------------------------------------------------------------------
    // Validator weights: commit, then reveal
    // ------------------------------------------------------------------------------------

    /// PIN minted when an epoch's root finalises (less once the supply cap leaves less room).
    pub async fn emission_per_epoch(&self) -> Result<Pin> {
        Ok(Pin::from_wei(
            self.read(
                self.deployment.emissions,
                EpochEmissions::emissionPerEpochCall {},
            )
            .await?,
        ))
    }

    /// The deployment's epoch timing: when each epoch ends and its commit, reveal and proposal
    /// windows open.
    pub async fn epoch_schedule(&self) -> Result<EpochSchedule> {
        let e = self.deployment.emissions;
        Ok(EpochSchedule {
            genesis: u64_of(
                self.read(e, EpochEmissions::genesisCall {}).await?,
                "genesis",
            )?,
            epoch_length: u64_of(
                self.read(e, EpochEmissions::epochLengthCall {}).await?,
                "epochLength",
            )?,
            reveal_window: u64_of(
                self.read(e, EpochEmissions::revealWindowCall {}).await?,
                "revealWindow",
            )?,
        })
    }

    /// Commits the signer (a staked validator) to its weights for `epoch`, during the epoch's
    /// commit window. `commitment` is [`crate::weights_commitment`] of the weights, the signer's
    /// address and a fresh secret salt; the same weights and salt are revealed afterwards with
    /// [`Self::reveal_weights`].
    pub async fn commit_weights(
        &self,
        signer: &PrivateKeySigner,
        epoch: u64,
        commitment: B256,
    ) -> Result<Receipt> {
        let call = EpochEmissions::commitWeightsCall {
            epoch: U256::from(epoch),
            commitment,
        };
        self.write(signer, self.deployment.emissions, call).await
    }

    /// Reveals the weights (miner, weight) the signer committed to for `epoch`, with the salt of
    /// the commitment, during the epoch's reveal window. The weights are sorted by miner here, as
    /// the contract requires.
    ///
    /// # Errors
    /// [`Error::Weights`] without sending anything if the contract would refuse the weights
    /// themselves (a miner twice, more than [`crate::MAX_MINERS`], a weight of 2^96 or more);
    /// [`Error::Contract`] for the contract's refusals (`CommitmentMismatch`, `RevealNotOpen`,
    /// …).
    pub async fn reveal_weights(
        &self,
        signer: &PrivateKeySigner,
        epoch: u64,
        weights: &[(Address, U256)],
        salt: B256,
    ) -> Result<Receipt> {
        let sorted = sorted_weights(weights)?;
        let (miners, weights): (Vec<Address>, Vec<U256>) = sorted.into_iter().unzip();
        let call = EpochEmissions::revealWeightsCall {
            epoch: U256::from(epoch),
            miners,
            weights,
            salt,
        };
        self.write(signer, self.deployment.emissions, call).await
    }

    /// The commitment `validator` made for `epoch` (zero if none).
    pub async fn commitment_of(&self, epoch: u64, validator: Address) -> Result<B256> {
        let call = EpochEmissions::commitmentOfCall {
            epoch: U256::from(epoch),
            validator,
        };
        self.read(self.deployment.emissions, call).await
    }

    /// Every validator's revealed weights for `epoch`, in the order they revealed
    /// (`revealersOf`); miners ascending within each.
    pub async fn revealed_weights(&self, epoch: u64) -> Result<Vec<RevealedWeights>> {
        let e = self.deployment.emissions;
        let epoch = U256::from(epoch);
        let revealers = self
            .read(e, EpochEmissions::revealersOfCall { epoch })
            .await?;
        let mut all = Vec::with_capacity(revealers.len());
        for validator in revealers {
            let w = self
                .read(e, EpochEmissions::weightsOfCall { epoch, validator })
                .await?;
            if w.miners.len() != w.weights.len() {
                return Err(Error::BadReturn {
                    function: EpochEmissions::weightsOfCall::SIGNATURE,
                    reason: format!("{} miners but {} weights", w.miners.len(), w.weights.len()),
                });
            }
            all.push(RevealedWeights {
                validator,
                weights: w.miners.into_iter().zip(w.weights).collect(),
            });
        }
        Ok(all)
    }
}

fn deployed(receipt: Receipt) -> Result<Address> {
    receipt.contract_address.ok_or(Error::MissingEvent {
        tx_hash: receipt.tx_hash,
        event: "contract creation",
    })
}
