// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {PINToken} from "./PINToken.sol";
import {StakingManager} from "./StakingManager.sol";

/// @title EpochEmissions
/// @notice Mints each epoch's scheduled PIN emission and pays it out against a Merkle root of
/// running totals that the validators agree on.
/// @dev Epoch `e` covers `[genesis + e·epochLength, genesis + (e+1)·epochLength)`. Epochs finalise
/// in order: once epoch `e` has ended, staked validators (StakingManager's VALIDATOR_ROLE with a
/// nonzero `validatorStake`) each propose one root for it; the root is final as soon as the
/// validators that proposed it hold at least 2/3 of `totalValidatorStake` (their *current* stake
/// is summed, so stake that left since the proposal does not count). Finalising mints the epoch's
/// emission to this contract (less if the token's cap leaves less room, nothing once it is
/// reached; the minted amount is in the event and `emittedIn`) and makes the root the one claims
/// are checked against.
///
/// Leaves are OpenZeppelin `StandardMerkleTree` leaves of `(address account, uint256 cumulative)`:
/// `keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))))`, where `cumulative` is
/// everything `account` earned since genesis (crate `nash`, module `emission`). A claim pays
/// `cumulative − claimed[account]`, so an old proof never pays twice and a missed epoch is
/// claimed with a later one.
contract EpochEmissions is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev A zero address was given for the token or the staking contract.
    error EmissionsZeroAddress();
    /// @dev The epoch length is zero.
    error EmissionsZeroEpochLength();
    /// @dev The caller is not a staked validator.
    error NotValidator(address account);
    /// @dev A zero root was proposed.
    error ZeroRoot();
    /// @dev Only the next epoch to finalise (`expected`) takes proposals.
    error EpochNotOpen(uint256 epoch, uint256 expected);
    /// @dev The epoch has not ended yet.
    error EpochNotEnded(uint256 epoch, uint256 endsAt);
    /// @dev The validator already proposed a root for this epoch.
    error AlreadyProposed(uint256 epoch, address validator, bytes32 root);
    /// @dev The proposers of `root` hold less than 2/3 of the validator stake.
    error QuorumNotReached(uint256 epoch, bytes32 root, uint256 support, uint256 totalStake);
    /// @dev No root has been finalised yet.
    error NoRoot();
    /// @dev The proof does not show `(account, cumulativeAmount)` in the latest root.
    error InvalidProof(address account, uint256 cumulativeAmount);
    /// @dev `account` has already claimed `claimed` of its running total `cumulativeAmount`.
    error NothingToClaim(address account, uint256 cumulativeAmount, uint256 claimed);

    /// @notice `validator`, holding `stake`, proposed `root` for `epoch`.
    event RootProposed(uint256 indexed epoch, address indexed validator, bytes32 indexed root, uint256 stake);
    /// @notice `root` is final for `epoch`, backed by `support` of `totalStake`; `minted` PIN was minted.
    event EpochFinalised(
        uint256 indexed epoch, bytes32 indexed root, uint256 minted, uint256 support, uint256 totalStake
    );
    /// @notice `amount` was paid to `account`, whose claimed running total is now `cumulativeAmount`.
    event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount);

    /// @notice The emitted token (this contract needs its MINTER_ROLE).
    PINToken public immutable token;
    /// @notice Where validator stake is read.
    StakingManager public immutable staking;
    /// @notice Start of epoch 0 (the deployment's block timestamp).
    uint256 public immutable genesis;
    /// @notice Seconds per epoch.
    uint256 public immutable epochLength;
    /// @notice Scheduled emission per epoch, in wei.
    uint256 public immutable emissionPerEpoch;

    mapping(uint256 epoch => mapping(address validator => bytes32 root)) private _proposals;
    mapping(uint256 epoch => mapping(bytes32 root => address[])) private _proposers;
    mapping(uint256 epoch => bytes32) private _roots;
    mapping(uint256 epoch => uint256) private _emitted;
    mapping(address account => uint256) private _claimed;
    uint256 private _nextEpoch;
    bytes32 private _latestRoot;
    uint256 private _totalEmitted;
    uint256 private _totalClaimed;

    /// @param token_ The PIN token.
    /// @param staking_ The staking contract whose validators propose roots.
    /// @param epochLength_ Seconds per epoch.
    /// @param emissionPerEpoch_ Scheduled emission per epoch, in wei.
    constructor(PINToken token_, StakingManager staking_, uint256 epochLength_, uint256 emissionPerEpoch_) {
        if (address(token_) == address(0) || address(staking_) == address(0)) revert EmissionsZeroAddress();
        if (epochLength_ == 0) revert EmissionsZeroEpochLength();
        token = token_;
        staking = staking_;
        genesis = block.timestamp;
        epochLength = epochLength_;
        emissionPerEpoch = emissionPerEpoch_;
    }

    // ----------------------------------------------------------------------------------------
    // Roots
    // ----------------------------------------------------------------------------------------

    /// @notice Proposes `root` (running totals up to and including `epoch`) for `epoch`, which
    /// must have ended and be the next to finalise. One proposal per validator per epoch; the
    /// proposal that brings `root` to 2/3 of the validator stake finalises the epoch and mints
    /// its emission.
    /// @param epoch The epoch.
    /// @param root The Merkle root of the cumulative (account, amount) table.
    function propose(uint256 epoch, bytes32 root) external {
        uint256 stake = staking.validatorStake(msg.sender);
        if (stake == 0) revert NotValidator(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        _checkOpen(epoch);
        uint256 endsAt = genesis + (epoch + 1) * epochLength;
        if (block.timestamp < endsAt) revert EpochNotEnded(epoch, endsAt);
        bytes32 previous = _proposals[epoch][msg.sender];
        if (previous != bytes32(0)) revert AlreadyProposed(epoch, msg.sender, previous);

        _proposals[epoch][msg.sender] = root;
        _proposers[epoch][root].push(msg.sender);
        emit RootProposed(epoch, msg.sender, root, stake);
        _tryFinalise(epoch, root);
    }

    /// @notice Finalises `epoch` with `root` if its proposers now hold 2/3 of the validator stake
    /// (for when stake changed after the last proposal, e.g. a dissenting validator left).
    /// Reverts `QuorumNotReached` otherwise. Anyone may call.
    /// @param epoch The epoch (the next to finalise).
    /// @param root A proposed root.
    function finalise(uint256 epoch, bytes32 root) external {
        _checkOpen(epoch);
        if (!_tryFinalise(epoch, root)) {
            (uint256 support, uint256 total) = supportOf(epoch, root);
            revert QuorumNotReached(epoch, root, support, total);
        }
    }

    // ----------------------------------------------------------------------------------------
    // Claims
    // ----------------------------------------------------------------------------------------

    /// @notice Pays `account` what it has not yet claimed of its running total `cumulativeAmount`,
    /// proven against the latest finalised root. Anyone may call; the tokens go to `account`.
    /// @param account The account in the leaf.
    /// @param cumulativeAmount Its running total in the leaf, in wei.
    /// @param proof Sibling hashes from the leaf up (OpenZeppelin `MerkleProof`).
    function claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) external nonReentrant {
        bytes32 root = _latestRoot;
        if (root == bytes32(0)) revert NoRoot();
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(account, cumulativeAmount);
        uint256 claimed_ = _claimed[account];
        if (cumulativeAmount <= claimed_) revert NothingToClaim(account, cumulativeAmount, claimed_);

        uint256 amount;
        // Cannot underflow: cumulativeAmount > claimed_ was checked above.
        unchecked {
            amount = cumulativeAmount - claimed_;
        }
        _claimed[account] = cumulativeAmount;
        _totalClaimed += amount;
        emit Claimed(account, amount, cumulativeAmount);
        IERC20(address(token)).safeTransfer(account, amount);
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @notice The epoch the current block falls in.
    function currentEpoch() external view returns (uint256) {
        return (block.timestamp - genesis) / epochLength;
    }

    /// @notice The next epoch to finalise (the only one taking proposals).
    function nextEpoch() external view returns (uint256) {
        return _nextEpoch;
    }

    /// @notice The root claims are checked against (zero before the first finalisation).
    function latestRoot() external view returns (bytes32) {
        return _latestRoot;
    }

    /// @notice The finalised root of `epoch` (zero if not finalised).
    /// @param epoch The epoch.
    function rootOf(uint256 epoch) external view returns (bytes32) {
        return _roots[epoch];
    }

    /// @notice PIN minted when `epoch` finalised.
    /// @param epoch The epoch.
    function emittedIn(uint256 epoch) external view returns (uint256) {
        return _emitted[epoch];
    }

    /// @notice The root `validator` proposed for `epoch` (zero if none).
    /// @param epoch The epoch.
    /// @param validator The validator.
    function proposalOf(uint256 epoch, address validator) external view returns (bytes32) {
        return _proposals[epoch][validator];
    }

    /// @notice Current stake of the validators that proposed `root` for `epoch`, and the total
    /// validator stake it is measured against.
    /// @param epoch The epoch.
    /// @param root The root.
    function supportOf(uint256 epoch, bytes32 root) public view returns (uint256 support, uint256 totalStake) {
        address[] storage proposers = _proposers[epoch][root];
        for (uint256 i = 0; i < proposers.length; ++i) {
            support += staking.validatorStake(proposers[i]);
        }
        totalStake = staking.totalValidatorStake();
    }

    /// @notice The running total `account` has claimed.
    /// @param account The account.
    function claimedOf(address account) external view returns (uint256) {
        return _claimed[account];
    }

    /// @notice Everything minted here.
    function totalEmitted() external view returns (uint256) {
        return _totalEmitted;
    }

    /// @notice Everything paid out by claims.
    function totalClaimed() external view returns (uint256) {
        return _totalClaimed;
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    function _checkOpen(uint256 epoch) private view {
        uint256 expected = _nextEpoch;
        if (epoch != expected) revert EpochNotOpen(epoch, expected);
    }

    /// @dev Finalises `epoch` with `root` if its proposers hold at least 2/3 of the validator stake.
    function _tryFinalise(uint256 epoch, bytes32 root) private returns (bool) {
        (uint256 support, uint256 total) = supportOf(epoch, root);
        if (total == 0 || support * 3 < total * 2) return false;

        _roots[epoch] = root;
        _latestRoot = root;
        _nextEpoch = epoch + 1;
        uint256 supply = token.totalSupply();
        uint256 cap = token.cap();
        uint256 room = cap > supply ? cap - supply : 0;
        uint256 minted = emissionPerEpoch < room ? emissionPerEpoch : room;
        _emitted[epoch] = minted;
        _totalEmitted += minted;
        emit EpochFinalised(epoch, root, minted, support, total);
        if (minted != 0) token.mint(address(this), minted);
        return true;
    }
}
