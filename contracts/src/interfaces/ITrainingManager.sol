// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Model registry and training runs
/// @notice Model trainers register models and escrow a PIN budget per run; eligible compute nodes
/// join runs and attest their work; after a run ends, validators may invalidate attestations
/// during a challenge window; then each node claims its pro-rata share of the budget.
interface ITrainingManager {
    /// @notice Life cycle of a training run.
    enum RunStatus {
        None,
        Registered,
        Running,
        Done
    }

    /// @dev No run has this id.
    error TrainingUnknownRun(uint256 runId);
    /// @dev No model has this id.
    error TrainingUnknownModel(uint256 modelId);
    /// @dev The run is not in the status the operation needs.
    error TrainingWrongStatus(uint256 runId, RunStatus status, RunStatus required);
    /// @dev Only the run's (or model's) trainer may do this.
    error TrainingNotTrainer(address caller, address trainer);
    /// @dev The model name is empty or longer than 64 bytes.
    error TrainingInvalidName(uint256 length);
    /// @dev A budget of zero was given.
    error TrainingZeroBudget();
    /// @dev The budget does not fit the contract's accounting (more than 2^96 wei).
    error TrainingBudgetTooLarge(uint256 budget);
    /// @dev The endpoint is empty or longer than 128 bytes.
    error TrainingInvalidEndpoint(uint256 length);
    /// @dev The node is not on the compute-node whitelist.
    error TrainingNodeNotWhitelisted(address node);
    /// @dev The node's active stake is below the minimum.
    error TrainingInsufficientStake(address node, uint256 stake, uint256 minimum);
    /// @dev The node already joined the run.
    error TrainingAlreadyJoined(uint256 runId, address node);
    /// @dev The caller has not joined the run.
    error TrainingNotParticipant(uint256 runId, address node);
    /// @dev This digest was already attested in the run.
    error TrainingDuplicateAttestation(uint256 runId, bytes32 digest);
    /// @dev No attestation with this digest exists in the run.
    error TrainingUnknownAttestation(uint256 runId, bytes32 digest);
    /// @dev The attestation was already invalidated.
    error TrainingAlreadyInvalidated(uint256 runId, bytes32 digest);
    /// @dev The challenge window of the run has closed.
    error TrainingChallengeWindowClosed(uint256 runId, uint256 closedAt);
    /// @dev The challenge window of the run is still open.
    error TrainingChallengeWindowOpen(uint256 runId, uint256 closesAt);
    /// @dev The node already claimed its reward for the run.
    error TrainingAlreadyClaimed(uint256 runId, address node);
    /// @dev The node attested in the run, so it settles by claiming after the challenge window.
    error TrainingCannotLeave(uint256 runId, address node, uint256 attestations);
    /// @dev The run has valid attestations, so its budget belongs to the nodes.
    error TrainingBudgetOwed(uint256 runId, uint256 validAttestations);
    /// @dev The run's budget was already reclaimed.
    error TrainingAlreadyReclaimed(uint256 runId);
    /// @dev No run ids were given.
    error TrainingNoRuns();
    /// @dev The challenge window is longer than the allowed maximum.
    error TrainingChallengeWindowTooLong(uint256 window, uint256 maximum);
    /// @dev A zero address was given where a contract is required.
    error TrainingZeroAddress();

    /// @notice `trainer` registered model `modelId` named `name`.
    event ModelRegistered(uint256 indexed modelId, address indexed trainer, string name);
    /// @notice Run `runId` of model `modelId` was registered with `budget` escrowed.
    event RunRegistered(uint256 indexed runId, uint256 indexed modelId, address indexed trainer, uint256 budget);
    /// @notice Run `runId` started.
    event RunStarted(uint256 indexed runId);
    /// @notice `node` joined run `runId`, reachable at `endpoint`.
    event NodeJoined(uint256 indexed runId, address indexed node, string endpoint);
    /// @notice `node` attested `digest` in run `runId`.
    event AttestationSubmitted(uint256 indexed runId, address indexed node, bytes32 indexed digest);
    /// @notice Run `runId` ended; attestations can be challenged until `challengeDeadline`.
    event RunEnded(uint256 indexed runId, uint256 challengeDeadline);
    /// @notice `validator` invalidated `node`'s attestation `digest` in run `runId`, slashing `slashed`.
    event AttestationInvalidated(
        uint256 indexed runId, address indexed node, bytes32 indexed digest, address validator, uint256 slashed
    );
    /// @notice `node` left run `runId` before attesting anything.
    event NodeLeft(uint256 indexed runId, address indexed node);
    /// @notice `node` claimed `amount` for run `runId` (zero if none of its attestations stood).
    event RewardClaimed(uint256 indexed runId, address indexed node, uint256 amount);
    /// @notice The trainer took back the budget of a run nobody earned.
    event BudgetReclaimed(uint256 indexed runId, address indexed trainer, uint256 amount);
    /// @notice The challenge window for runs ending from now on changed.
    event ChallengeWindowUpdated(uint256 previous, uint256 current);
}
