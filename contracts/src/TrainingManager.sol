// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

import {IStakingManager} from "./interfaces/IStakingManager.sol";
import {ITrainingManager} from "./interfaces/ITrainingManager.sol";

/// @title TrainingManager
/// @notice Model registry and training runs: escrowed budgets, attestations, challenges, claims.
/// @dev Fixes the PoC: every state change is role- or ownership-gated; a node attests only for
/// itself; a challenge invalidates the attestation and slashes through the staking contract;
/// rewards are paid from the trainer's escrow in wei; claiming is O(1) per run (the run's
/// budget times the node's share of valid attestations), with many runs in one call.
contract TrainingManager is ITrainingManager, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Role that registers models and funds training runs.
    bytes32 public constant MODEL_TRAINER_ROLE = keccak256("MODEL_TRAINER_ROLE");
    /// @notice Role that may invalidate attestations during a run's challenge window.
    bytes32 public constant VALIDATOR_ROLE = keccak256("VALIDATOR_ROLE");
    /// @notice Longest challenge window the admin may set.
    uint256 public constant MAX_CHALLENGE_WINDOW = 90 days;

    /// @dev Slot 0 holds everything a claim reads; slot 1 what only the trainer's calls read.
    struct Run {
        uint96 budget;
        uint64 validAttestations;
        uint48 claimableAt;
        RunStatus status;
        bool reclaimed;
        address trainer;
        uint64 modelId;
    }

    struct Participant {
        uint64 attestations;
        bool joined;
        bool claimed;
    }

    struct Attestation {
        address node;
        bool invalidated;
    }

    struct Model {
        address trainer;
        string name;
    }

    /// @notice The reward token.
    IERC20 public immutable token;
    /// @notice Where node eligibility is read and slashes are sent.
    IStakingManager public immutable staking;

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 runId => Run) private _runs;
    mapping(uint256 runId => mapping(address node => Participant)) private _participants;
    mapping(uint256 runId => mapping(address node => string)) private _endpoints;
    mapping(uint256 runId => mapping(bytes32 digest => Attestation)) private _attestations;
    mapping(address node => uint256[]) private _nodeRuns;
    uint256 private _modelCount;
    uint256 private _runCount;
    uint256 private _challengeWindow;
    uint256 private _totalEscrowed;

    /// @param admin Receives the admin role.
    /// @param token_ The PIN token budgets are paid in.
    /// @param staking_ The staking contract (this contract needs its SLASHER_ROLE to slash).
    /// @param challengeWindow_ Seconds after a run ends during which attestations can be challenged.
    constructor(address admin, IERC20 token_, IStakingManager staking_, uint256 challengeWindow_) {
        if (admin == address(0) || address(token_) == address(0) || address(staking_) == address(0)) {
            revert TrainingZeroAddress();
        }
        if (challengeWindow_ > MAX_CHALLENGE_WINDOW) {
            revert TrainingChallengeWindowTooLong(challengeWindow_, MAX_CHALLENGE_WINDOW);
        }
        token = token_;
        staking = staking_;
        _challengeWindow = challengeWindow_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ----------------------------------------------------------------------------------------
    // Trainers
    // ----------------------------------------------------------------------------------------

    /// @notice Registers a model and its first training run, escrowing `budget` from the caller
    /// (who must have approved this contract).
    /// @param name Model name, 1 to 64 bytes.
    /// @param budget The run's reward budget, in wei.
    /// @return modelId The new model's id (from 1).
    /// @return runId The new run's id (from 1).
    function registerModel(string calldata name, uint256 budget)
        external
        onlyRole(MODEL_TRAINER_ROLE)
        returns (uint256 modelId, uint256 runId)
    {
        return _registerModel(name, budget);
    }

    /// @notice `registerModel` with an EIP-2612 permit for the budget instead of a prior approval.
    /// @dev A failing permit is ignored (it may have been front-run); the transfer then needs an
    /// allowance as usual.
    /// @param name Model name, 1 to 64 bytes.
    /// @param budget The run's reward budget, in wei.
    /// @param deadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return modelId The new model's id.
    /// @return runId The new run's id.
    function registerModelWithPermit(
        string calldata name,
        uint256 budget,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external onlyRole(MODEL_TRAINER_ROLE) returns (uint256 modelId, uint256 runId) {
        _permit(budget, deadline, v, r, s);
        return _registerModel(name, budget);
    }

    /// @notice Registers another training run of the caller's model `modelId`, escrowing `budget`.
    /// @param modelId The model.
    /// @param budget The run's reward budget, in wei.
    /// @return runId The new run's id.
    function createRun(uint256 modelId, uint256 budget) external onlyRole(MODEL_TRAINER_ROLE) returns (uint256 runId) {
        return _createRun(modelId, budget);
    }

    /// @notice `createRun` with an EIP-2612 permit for the budget instead of a prior approval.
    /// @param modelId The model.
    /// @param budget The run's reward budget, in wei.
    /// @param deadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    /// @return runId The new run's id.
    function createRunWithPermit(uint256 modelId, uint256 budget, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        onlyRole(MODEL_TRAINER_ROLE)
        returns (uint256 runId)
    {
        _permit(budget, deadline, v, r, s);
        return _createRun(modelId, budget);
    }

    /// @notice Starts run `runId` (Registered → Running). Only its trainer.
    /// @param runId The run.
    function startRun(uint256 runId) external {
        Run storage run = _trainerRun(runId);
        _requireStatus(runId, run.status, RunStatus.Registered);
        run.status = RunStatus.Running;
        emit RunStarted(runId);
    }

    /// @notice Ends run `runId` (Running → Done) and opens its challenge window. Only its trainer.
    /// @param runId The run.
    function endRun(uint256 runId) external {
        Run storage run = _trainerRun(runId);
        _requireStatus(runId, run.status, RunStatus.Running);
        uint256 deadline = block.timestamp + _challengeWindow;
        run.status = RunStatus.Done;
        run.claimableAt = uint48(deadline);
        emit RunEnded(runId, deadline);
    }

    /// @notice Returns the budget of a finished run that ended with no valid attestation.
    /// @param runId The run.
    function reclaim(uint256 runId) external {
        Run storage run = _trainerRun(runId);
        _requireStatus(runId, run.status, RunStatus.Done);
        if (block.timestamp < run.claimableAt) revert TrainingChallengeWindowOpen(runId, run.claimableAt);
        if (run.validAttestations != 0) revert TrainingBudgetOwed(runId, run.validAttestations);
        if (run.reclaimed) revert TrainingAlreadyReclaimed(runId);
        uint256 amount = run.budget;
        run.reclaimed = true;
        _totalEscrowed -= amount;
        emit BudgetReclaimed(runId, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ----------------------------------------------------------------------------------------
    // Compute nodes
    // ----------------------------------------------------------------------------------------

    /// @notice Joins run `runId` as the caller, a whitelisted node with at least the minimum stake.
    /// @param runId The run (Registered or Running).
    /// @param endpoint Where the trainer reaches the node, 1 to 128 bytes.
    function joinRun(uint256 runId, string calldata endpoint) external {
        RunStatus status = _runs[runId].status;
        if (status == RunStatus.None) revert TrainingUnknownRun(runId);
        if (status == RunStatus.Done) revert TrainingWrongStatus(runId, status, RunStatus.Running);
        uint256 length = bytes(endpoint).length;
        if (length == 0 || length > 128) revert TrainingInvalidEndpoint(length);
        _requireEligible(msg.sender);
        Participant storage p = _participants[runId][msg.sender];
        if (p.joined) revert TrainingAlreadyJoined(runId, msg.sender);

        p.joined = true;
        _endpoints[runId][msg.sender] = endpoint;
        _nodeRuns[msg.sender].push(runId);
        emit NodeJoined(runId, msg.sender, endpoint);
        // The node's stake backs its attestations in this run until it settles the run.
        staking.lock(msg.sender);
    }

    /// @notice Leaves run `runId` before attesting anything, releasing the stake lock the join
    /// took (so a run that is never ended does not hold the stake of nodes that did no work).
    /// @param runId The run (Registered or Running).
    function leaveRun(uint256 runId) external {
        RunStatus status = _runs[runId].status;
        if (status == RunStatus.None) revert TrainingUnknownRun(runId);
        if (status == RunStatus.Done) revert TrainingWrongStatus(runId, status, RunStatus.Running);
        Participant storage p = _participants[runId][msg.sender];
        if (!p.joined || p.claimed) revert TrainingNotParticipant(runId, msg.sender);
        if (p.attestations != 0) revert TrainingCannotLeave(runId, msg.sender, p.attestations);
        p.claimed = true;
        emit NodeLeft(runId, msg.sender);
        staking.unlock(msg.sender, 1);
    }

    /// @notice Attests `digest` (a hash of the caller's training work) in running run `runId`.
    /// The caller attests for itself only, must have joined and must still be eligible.
    /// @param runId The run.
    /// @param digest The work digest; each digest counts once per run.
    function attest(uint256 runId, bytes32 digest) external {
        Run storage run = _runs[runId];
        _requireStatus(runId, run.status, RunStatus.Running);
        Participant storage p = _participants[runId][msg.sender];
        if (!p.joined || p.claimed) revert TrainingNotParticipant(runId, msg.sender);
        if (!staking.isEligible(msg.sender)) _requireEligible(msg.sender);
        Attestation storage a = _attestations[runId][digest];
        if (a.node != address(0)) revert TrainingDuplicateAttestation(runId, digest);

        a.node = msg.sender;
        p.attestations += 1;
        run.validAttestations += 1;
        emit AttestationSubmitted(runId, msg.sender, digest);
    }

    /// @notice Claims the caller's reward for each run in `runIds` in one transfer. Each run must
    /// be Done with its challenge window closed; the reward is budget × (the caller's valid
    /// attestations) / (all valid attestations), zero if none stood. Claiming settles the run:
    /// the stake lock taken at join is released.
    /// @param runIds The runs to claim.
    /// @return total The amount paid, in wei.
    function claim(uint256[] calldata runIds) external returns (uint256 total) {
        if (runIds.length == 0) revert TrainingNoRuns();
        for (uint256 i; i < runIds.length; ++i) {
            uint256 runId = runIds[i];
            Run storage run = _runs[runId];
            RunStatus status = run.status;
            uint256 claimableAt = run.claimableAt;
            _requireStatus(runId, status, RunStatus.Done);
            if (block.timestamp < claimableAt) revert TrainingChallengeWindowOpen(runId, claimableAt);
            Participant storage p = _participants[runId][msg.sender];
            if (!p.joined) revert TrainingNotParticipant(runId, msg.sender);
            if (p.claimed) revert TrainingAlreadyClaimed(runId, msg.sender);
            uint256 attestations = p.attestations;

            p.claimed = true;
            // attestations <= validAttestations, so the share is at most the budget and the sum of
            // rounded-down shares never exceeds it.
            uint256 amount = attestations == 0 ? 0 : uint256(run.budget) * attestations / run.validAttestations;
            total += amount;
            emit RewardClaimed(runId, msg.sender, amount);
        }
        staking.unlock(msg.sender, runIds.length);
        if (total != 0) {
            _totalEscrowed -= total;
            token.safeTransfer(msg.sender, total);
        }
    }

    // ----------------------------------------------------------------------------------------
    // Validators
    // ----------------------------------------------------------------------------------------

    /// @notice Invalidates attestation `digest` of run `runId` during its challenge window and
    /// slashes its node `slashAmount` through the staking contract (zero: invalidate only).
    /// @param runId The run (Done, window open).
    /// @param digest The attestation.
    /// @param slashAmount Stake to slash from the attesting node, in wei.
    /// @param evidence Hash of the evidence, recorded by the staking contract's Slashed event.
    function challenge(uint256 runId, bytes32 digest, uint256 slashAmount, bytes32 evidence)
        external
        onlyRole(VALIDATOR_ROLE)
    {
        Run storage run = _runs[runId];
        _requireStatus(runId, run.status, RunStatus.Done);
        if (block.timestamp >= run.claimableAt) revert TrainingChallengeWindowClosed(runId, run.claimableAt);
        Attestation storage a = _attestations[runId][digest];
        address node = a.node;
        if (node == address(0)) revert TrainingUnknownAttestation(runId, digest);
        if (a.invalidated) revert TrainingAlreadyInvalidated(runId, digest);

        a.invalidated = true;
        _participants[runId][node].attestations -= 1;
        run.validAttestations -= 1;
        emit AttestationInvalidated(runId, node, digest, msg.sender, slashAmount);
        if (slashAmount != 0) staking.slash(node, slashAmount, evidence);
    }

    // ----------------------------------------------------------------------------------------
    // Administration
    // ----------------------------------------------------------------------------------------

    /// @notice Sets the challenge window for runs that end from now on.
    /// @param window Seconds, at most `MAX_CHALLENGE_WINDOW`.
    function setChallengeWindow(uint256 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (window > MAX_CHALLENGE_WINDOW) revert TrainingChallengeWindowTooLong(window, MAX_CHALLENGE_WINDOW);
        emit ChallengeWindowUpdated(_challengeWindow, window);
        _challengeWindow = window;
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @notice Run `runId`: its model, trainer, status, budget, valid attestations, the time from
    /// which it can be claimed (zero while not Done) and whether its budget was reclaimed.
    function getRun(uint256 runId)
        external
        view
        returns (
            uint256 modelId,
            address trainer,
            RunStatus status,
            uint256 budget,
            uint256 validAttestations,
            uint256 claimableAt,
            bool reclaimed
        )
    {
        Run memory run = _runs[runId];
        return (
            run.modelId, run.trainer, run.status, run.budget, run.validAttestations, run.claimableAt, run.reclaimed
        );
    }

    /// @notice Model `modelId`: its trainer and name.
    function getModel(uint256 modelId) external view returns (address trainer, string memory name) {
        Model storage m = _models[modelId];
        return (m.trainer, m.name);
    }

    /// @notice `node`'s part in run `runId`: joined, valid attestations, claimed, endpoint.
    function participantOf(uint256 runId, address node)
        external
        view
        returns (bool joined, uint256 attestations, bool claimed, string memory endpoint)
    {
        Participant memory p = _participants[runId][node];
        return (p.joined, p.attestations, p.claimed, _endpoints[runId][node]);
    }

    /// @notice Who attested `digest` in run `runId` (zero: nobody) and whether it was invalidated.
    function attestationOf(uint256 runId, bytes32 digest) external view returns (address node, bool invalidated) {
        Attestation memory a = _attestations[runId][digest];
        return (a.node, a.invalidated);
    }

    /// @notice Every run `node` joined, in the order it joined them.
    function runsOf(address node) external view returns (uint256[] memory) {
        return _nodeRuns[node];
    }

    /// @notice What `node` would receive for run `runId` if the run's attestations stood as now.
    function pendingReward(uint256 runId, address node) external view returns (uint256) {
        Run memory run = _runs[runId];
        Participant memory p = _participants[runId][node];
        if (p.claimed || p.attestations == 0) return 0;
        return uint256(run.budget) * p.attestations / run.validAttestations;
    }

    /// @notice Seconds after a run ends during which its attestations can be challenged.
    function challengeWindow() external view returns (uint256) {
        return _challengeWindow;
    }

    /// @notice Number of models registered (ids run from 1).
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @notice Number of runs registered (ids run from 1).
    function runCount() external view returns (uint256) {
        return _runCount;
    }

    /// @notice Budget held for runs and not yet paid out or reclaimed, in wei.
    function totalEscrowed() external view returns (uint256) {
        return _totalEscrowed;
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    function _registerModel(string calldata name, uint256 budget) private returns (uint256 modelId, uint256 runId) {
        uint256 length = bytes(name).length;
        if (length == 0 || length > 64) revert TrainingInvalidName(length);
        modelId = ++_modelCount;
        _models[modelId] = Model({trainer: msg.sender, name: name});
        emit ModelRegistered(modelId, msg.sender, name);
        runId = _registerRun(modelId, budget);
    }

    function _createRun(uint256 modelId, uint256 budget) private returns (uint256 runId) {
        address trainer = _models[modelId].trainer;
        if (trainer == address(0)) revert TrainingUnknownModel(modelId);
        if (trainer != msg.sender) revert TrainingNotTrainer(msg.sender, trainer);
        runId = _registerRun(modelId, budget);
    }

    function _permit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) private {
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
    }

    function _registerRun(uint256 modelId, uint256 budget) private returns (uint256 runId) {
        if (budget == 0) revert TrainingZeroBudget();
        if (budget > type(uint96).max) revert TrainingBudgetTooLarge(budget);
        runId = ++_runCount;
        _runs[runId] = Run({
            budget: uint96(budget),
            validAttestations: 0,
            claimableAt: 0,
            status: RunStatus.Registered,
            reclaimed: false,
            trainer: msg.sender,
            modelId: uint64(modelId)
        });
        _totalEscrowed += budget;
        emit RunRegistered(runId, modelId, msg.sender, budget);
        token.safeTransferFrom(msg.sender, address(this), budget);
    }

    function _trainerRun(uint256 runId) private view returns (Run storage run) {
        run = _runs[runId];
        if (run.status == RunStatus.None) revert TrainingUnknownRun(runId);
        if (run.trainer != msg.sender) revert TrainingNotTrainer(msg.sender, run.trainer);
    }

    function _requireStatus(uint256 runId, RunStatus status, RunStatus required) private pure {
        if (status == RunStatus.None) revert TrainingUnknownRun(runId);
        if (status != required) revert TrainingWrongStatus(runId, status, required);
    }

    function _requireEligible(address node) private view {
        if (!staking.isWhitelisted(node)) revert TrainingNodeNotWhitelisted(node);
        uint256 stake = staking.activeStake(node);
        uint256 minimum = staking.minimumStake();
        if (stake == 0 || stake < minimum) revert TrainingInsufficientStake(node, stake, minimum);
    }
}
