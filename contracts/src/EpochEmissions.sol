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
/// running totals that the validators agree on; before that, the validators commit to and then
/// reveal their weights over the epoch's miners, so that none can copy another's.
/// @dev Epoch `e` covers `[genesis + e·epochLength, end(e))` with `end(e) = genesis + (e+1)·epochLength`
/// (`epochEnd`). With `W = revealWindow`, after the epoch ends:
///
/// - `[end(e), end(e) + W)`: staked validators each commit once to a hash of their weights
///   (`commitWeights`);
/// - `[end(e) + W, end(e) + 2W)`: each validator that committed reveals the weights and the salt,
///   which must hash to its commitment (`revealWeights`); revealed weights are public
///   (`weightsOf`, `revealersOf`). Every commitment is fixed before any weights are revealed, and a
///   commitment binds its validator's address, so seeing others' reveals comes too late to copy
///   them and replaying another's commitment cannot be revealed;
/// - from `end(e) + 2W`: validators propose the epoch's root (`propose`).
///
/// A staked validator is StakingManager's VALIDATOR_ROLE with a nonzero `validatorStake`. Epochs
/// finalise in order: staked validators each propose one root for the next epoch to finalise;
/// the root is final as soon as the
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
    /// @dev The reveal window is zero.
    error EmissionsZeroRevealWindow();
    /// @dev The caller is not a staked validator.
    error NotValidator(address account);
    /// @dev A zero root was proposed.
    error ZeroRoot();
    /// @dev Only the next epoch to finalise (`expected`) takes proposals.
    error EpochNotOpen(uint256 epoch, uint256 expected);
    /// @dev Roots for `epoch` are taken from `opensAt` (the end of its reveal window).
    error ProposalNotOpen(uint256 epoch, uint256 opensAt);
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
    /// @dev A zero commitment was given.
    error ZeroCommitment();
    /// @dev Commitments for `epoch` are taken from `opensAt` (the end of the epoch).
    error CommitNotOpen(uint256 epoch, uint256 opensAt);
    /// @dev Commitments for `epoch` closed at `closedAt`.
    error CommitClosed(uint256 epoch, uint256 closedAt);
    /// @dev `validator` already committed to weights for `epoch`.
    error AlreadyCommitted(uint256 epoch, address validator);
    /// @dev Reveals for `epoch` are taken from `opensAt` (when its commitments close).
    error RevealNotOpen(uint256 epoch, uint256 opensAt);
    /// @dev Reveals for `epoch` closed at `closedAt`.
    error RevealClosed(uint256 epoch, uint256 closedAt);
    /// @dev `validator` did not commit to weights for `epoch`.
    error NotCommitted(uint256 epoch, address validator);
    /// @dev `validator` already revealed its weights for `epoch`.
    error AlreadyRevealed(uint256 epoch, address validator);
    /// @dev The reveal has `minerCount` miners but `weightCount` weights.
    error LengthMismatch(uint256 minerCount, uint256 weightCount);
    /// @dev The reveal names `count` miners, more than `maximum`.
    error TooManyMiners(uint256 count, uint256 maximum);
    /// @dev The miner at `index` is not strictly above the one before it (unsorted or repeated).
    error MinersNotSorted(uint256 index);
    /// @dev The weight at `index` does not fit 96 bits.
    error WeightTooLarge(uint256 index, uint256 weight);
    /// @dev What `validator` revealed for `epoch` hashes to `revealed`, not to its `committed` hash.
    error CommitmentMismatch(uint256 epoch, address validator, bytes32 committed, bytes32 revealed);

    /// @notice `validator`, holding `stake`, proposed `root` for `epoch`.
    event RootProposed(uint256 indexed epoch, address indexed validator, bytes32 indexed root, uint256 stake);
    /// @notice `root` is final for `epoch`, backed by `support` of `totalStake`; `minted` PIN was minted.
    event EpochFinalised(
        uint256 indexed epoch, bytes32 indexed root, uint256 minted, uint256 support, uint256 totalStake
    );
    /// @notice `amount` was paid to `account`, whose claimed running total is now `cumulativeAmount`.
    event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount);
    /// @notice `validator` committed to its weights for `epoch`.
    event WeightsCommitted(uint256 indexed epoch, address indexed validator, bytes32 commitment);
    /// @notice `validator` revealed its weights for `epoch` over `count` miners (read them with
    /// `weightsOf`).
    event WeightsRevealed(uint256 indexed epoch, address indexed validator, uint256 count);

    /// @dev One validator's weights for one epoch. `revealed` and `count` share a slot.
    struct Ballot {
        bytes32 commitment;
        bool revealed;
        uint16 count;
    }

    /// @notice The most miners one validator's weights may name in an epoch.
    uint256 public constant MAX_MINERS = 256;

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
    /// @notice Seconds of the commit window after an epoch ends, and again of the reveal window
    /// after it.
    uint256 public immutable revealWindow;

    mapping(uint256 epoch => mapping(address validator => bytes32 root)) private _proposals;
    mapping(uint256 epoch => mapping(bytes32 root => address[])) private _proposers;
    mapping(uint256 epoch => bytes32) private _roots;
    mapping(uint256 epoch => uint256) private _emitted;
    mapping(address account => uint256) private _claimed;
    uint256 private _nextEpoch;
    bytes32 private _latestRoot;
    uint256 private _totalEmitted;
    uint256 private _totalClaimed;
    mapping(uint256 epoch => mapping(address validator => Ballot)) private _ballots;
    /// @dev Revealed weights, one slot per miner: `uint256(uint160(miner)) << 96 | weight`, at
    /// indexes `0 .. count - 1` of the validator's ballot.
    mapping(uint256 epoch => mapping(address validator => mapping(uint256 index => uint256 entry))) private _entries;
    mapping(uint256 epoch => address[]) private _revealers;

    /// @param token_ The PIN token.
    /// @param staking_ The staking contract whose validators propose roots.
    /// @param epochLength_ Seconds per epoch.
    /// @param emissionPerEpoch_ Scheduled emission per epoch, in wei.
    /// @param revealWindow_ Seconds of the commit window, and of the reveal window after it.
    constructor(
        PINToken token_,
        StakingManager staking_,
        uint256 epochLength_,
        uint256 emissionPerEpoch_,
        uint256 revealWindow_
    ) {
        if (address(token_) == address(0) || address(staking_) == address(0)) revert EmissionsZeroAddress();
        if (epochLength_ == 0) revert EmissionsZeroEpochLength();
        if (revealWindow_ == 0) revert EmissionsZeroRevealWindow();
        token = token_;
        staking = staking_;
        genesis = block.timestamp;
        epochLength = epochLength_;
        emissionPerEpoch = emissionPerEpoch_;
        revealWindow = revealWindow_;
    }

    // ----------------------------------------------------------------------------------------
    // Weights
    // ----------------------------------------------------------------------------------------

    /// @notice Commits the caller (a staked validator) to its weights for `epoch`, during the
    /// epoch's commit window `[epochEnd(epoch), epochEnd(epoch) + revealWindow)`. Once per
    /// validator and epoch.
    /// @dev `commitment = keccak256(abi.encode(epoch, validator, miners, weights, salt))` with
    /// `miners` (address[]) strictly ascending, `weights` (uint256[]) each below 2^96, and `salt`
    /// a fresh random bytes32 kept secret until the reveal (weights are guessable without it).
    /// @param epoch The epoch the weights are for (it must have ended).
    /// @param commitment The hash above; nonzero.
    function commitWeights(uint256 epoch, bytes32 commitment) external {
        if (staking.validatorStake(msg.sender) == 0) revert NotValidator(msg.sender);
        if (commitment == bytes32(0)) revert ZeroCommitment();
        uint256 opensAt = epochEnd(epoch);
        if (block.timestamp < opensAt) revert CommitNotOpen(epoch, opensAt);
        uint256 closesAt = opensAt + revealWindow;
        if (block.timestamp >= closesAt) revert CommitClosed(epoch, closesAt);
        Ballot storage ballot = _ballots[epoch][msg.sender];
        if (ballot.commitment != bytes32(0)) revert AlreadyCommitted(epoch, msg.sender);

        ballot.commitment = commitment;
        emit WeightsCommitted(epoch, msg.sender, commitment);
    }

    /// @notice Reveals the weights the caller committed to for `epoch`, during the epoch's reveal
    /// window `[epochEnd(epoch) + revealWindow, epochEnd(epoch) + 2·revealWindow)`. Once per
    /// validator and epoch; the caller need not still be staked (its commitment was).
    /// @dev Stored one slot per miner (address and 96-bit weight packed), which halves the
    /// storage writes of two parallel arrays; the cost is the 2^96 − 1 bound on a weight
    /// (`WeightTooLarge`), about 7.9e28.
    /// @param epoch The epoch.
    /// @param miners The weighted miners, strictly ascending by address; at most `MAX_MINERS`.
    /// @param weights Each miner's weight, below 2^96; as many as `miners`.
    /// @param salt The salt of the commitment.
    function revealWeights(uint256 epoch, address[] calldata miners, uint256[] calldata weights, bytes32 salt)
        external
    {
        uint256 opensAt = epochEnd(epoch) + revealWindow;
        if (block.timestamp < opensAt) revert RevealNotOpen(epoch, opensAt);
        uint256 closesAt = opensAt + revealWindow;
        if (block.timestamp >= closesAt) revert RevealClosed(epoch, closesAt);
        Ballot storage ballot = _ballots[epoch][msg.sender];
        bytes32 committed = ballot.commitment;
        if (committed == bytes32(0)) revert NotCommitted(epoch, msg.sender);
        if (ballot.revealed) revert AlreadyRevealed(epoch, msg.sender);
        uint256 count = miners.length;
        if (count != weights.length) revert LengthMismatch(count, weights.length);
        if (count > MAX_MINERS) revert TooManyMiners(count, MAX_MINERS);

        // Checks and writes in one pass; any failure, the hash check included, reverts them all.
        mapping(uint256 index => uint256 entry) storage entries = _entries[epoch][msg.sender];
        address previous;
        for (uint256 i = 0; i < count; ++i) {
            address miner = miners[i];
            if (i != 0 && miner <= previous) revert MinersNotSorted(i);
            uint256 weight = weights[i];
            if (weight > type(uint96).max) revert WeightTooLarge(i, weight);
            entries[i] = (uint256(uint160(miner)) << 96) | weight;
            previous = miner;
        }
        bytes32 revealed = keccak256(abi.encode(epoch, msg.sender, miners, weights, salt));
        if (revealed != committed) revert CommitmentMismatch(epoch, msg.sender, committed, revealed);

        ballot.revealed = true;
        // Cannot truncate: count <= MAX_MINERS was checked above.
        ballot.count = uint16(count);
        _revealers[epoch].push(msg.sender);
        emit WeightsRevealed(epoch, msg.sender, count);
    }

    // ----------------------------------------------------------------------------------------
    // Roots
    // ----------------------------------------------------------------------------------------

    /// @notice Proposes `root` (running totals up to and including `epoch`) for `epoch`, which
    /// must be the next to finalise, from the end of its reveal window
    /// (`epochEnd(epoch) + 2·revealWindow`). One proposal per validator per epoch; the
    /// proposal that brings `root` to 2/3 of the validator stake finalises the epoch and mints
    /// its emission.
    /// @param epoch The epoch.
    /// @param root The Merkle root of the cumulative (account, amount) table.
    function propose(uint256 epoch, bytes32 root) external {
        uint256 stake = staking.validatorStake(msg.sender);
        if (stake == 0) revert NotValidator(msg.sender);
        if (root == bytes32(0)) revert ZeroRoot();
        _checkOpen(epoch);
        uint256 opensAt = epochEnd(epoch) + 2 * revealWindow;
        if (block.timestamp < opensAt) revert ProposalNotOpen(epoch, opensAt);
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

    /// @notice When `epoch` ends (unix seconds): its commit window opens then.
    /// @param epoch The epoch.
    function epochEnd(uint256 epoch) public view returns (uint256) {
        return genesis + (epoch + 1) * epochLength;
    }

    /// @notice The commitment `validator` made for `epoch` (zero if none).
    /// @param epoch The epoch.
    /// @param validator The validator.
    function commitmentOf(uint256 epoch, address validator) external view returns (bytes32) {
        return _ballots[epoch][validator].commitment;
    }

    /// @notice The weights `validator` revealed for `epoch`, miners ascending (empty if it has not
    /// revealed; `revealersOf` tells an empty reveal from none).
    /// @param epoch The epoch.
    /// @param validator The validator.
    /// @return miners The weighted miners, ascending by address.
    /// @return weights Each miner's weight.
    function weightsOf(uint256 epoch, address validator)
        external
        view
        returns (address[] memory miners, uint256[] memory weights)
    {
        uint256 count = _ballots[epoch][validator].count;
        mapping(uint256 index => uint256 entry) storage entries = _entries[epoch][validator];
        miners = new address[](count);
        weights = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 entry = entries[i];
            miners[i] = address(uint160(entry >> 96));
            weights[i] = uint96(entry);
        }
    }

    /// @notice The validators that revealed weights for `epoch`, in the order they revealed.
    /// @param epoch The epoch.
    function revealersOf(uint256 epoch) external view returns (address[] memory) {
        return _revealers[epoch];
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
