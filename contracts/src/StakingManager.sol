// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IStakingManager} from "./interfaces/IStakingManager.sol";
import {PINToken} from "./PINToken.sol";

/// @title StakingManager
/// @notice Holds the PIN stake of compute nodes and validators.
/// @dev Fixes the PoC: slashing takes from the stake held here (active first, then unbonding)
/// instead of the node's wallet; withdrawals wait out an unbonding period. Amounts are stored as
/// uint96 (the token's cap is far below 2^96 wei), so a node's whole position is one storage slot.
contract StakingManager is IStakingManager, AccessControl {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Role that adds and removes compute nodes from the whitelist.
    bytes32 public constant WHITELISTER_ROLE = keccak256("WHITELISTER_ROLE");
    /// @notice Role that slashes stake (validators, the training manager, the admin).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice Validators: may stake without the whitelist; their active stake is their voting power.
    bytes32 public constant VALIDATOR_ROLE = keccak256("VALIDATOR_ROLE");
    /// @notice Contracts that bind stake to obligations (the training manager: one lock per run
    /// joined, released when the node settles the run after its challenge window).
    bytes32 public constant LOCKER_ROLE = keccak256("LOCKER_ROLE");
    /// @notice Longest unbonding period the admin may set.
    uint256 public constant MAX_UNBONDING_PERIOD = 365 days;

    struct Position {
        uint96 active;
        uint96 unbonding;
        uint48 releaseAt;
        bool whitelisted;
    }

    /// @notice The staked token.
    PINToken public immutable token;

    mapping(address account => Position) private _positions;
    mapping(address account => uint256) private _locks;
    uint256 private _minimumStake;
    uint256 private _unbondingPeriod;
    address private _treasury;
    uint256 private _totalStaked;
    uint256 private _totalValidatorStake;

    /// @param admin Receives the admin, whitelister and slasher roles.
    /// @param token_ The PIN token.
    /// @param minimumStake_ Minimum active stake, in wei.
    /// @param unbondingPeriod_ Seconds between unstaking and withdrawing.
    constructor(address admin, PINToken token_, uint256 minimumStake_, uint256 unbondingPeriod_) {
        if (admin == address(0) || address(token_) == address(0)) revert StakingZeroAddress();
        if (unbondingPeriod_ > MAX_UNBONDING_PERIOD) {
            revert StakingUnbondingPeriodTooLong(unbondingPeriod_, MAX_UNBONDING_PERIOD);
        }
        token = token_;
        _minimumStake = minimumStake_;
        _unbondingPeriod = unbondingPeriod_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(WHITELISTER_ROLE, admin);
        _grantRole(SLASHER_ROLE, admin);
    }

    // ----------------------------------------------------------------------------------------
    // Whitelist
    // ----------------------------------------------------------------------------------------

    /// @notice Adds `node` to the compute-node whitelist.
    /// @param node The compute node's address.
    function whitelist(address node) external onlyRole(WHITELISTER_ROLE) {
        if (node == address(0)) revert StakingZeroAddress();
        Position storage p = _positions[node];
        if (p.whitelisted) revert StakingAlreadyWhitelisted(node);
        p.whitelisted = true;
        emit NodeWhitelisted(node, msg.sender);
    }

    /// @notice Removes `node` from the whitelist. Its stake stays; it can still unstake and withdraw.
    /// @param node The compute node's address.
    function removeFromWhitelist(address node) external onlyRole(WHITELISTER_ROLE) {
        Position storage p = _positions[node];
        if (!p.whitelisted) revert StakingNotWhitelisted(node);
        p.whitelisted = false;
        emit NodeRemovedFromWhitelist(node, msg.sender);
    }

    // ----------------------------------------------------------------------------------------
    // Staking
    // ----------------------------------------------------------------------------------------

    /// @notice Stakes `amount` PIN (wei) from the caller, who must have approved this contract.
    /// The resulting active stake must reach the minimum.
    /// @param amount Amount in wei.
    function stake(uint256 amount) external {
        _stake(amount);
    }

    /// @notice Stakes `amount` with an EIP-2612 permit instead of a prior approval: one
    /// transaction, so a refused stake leaves no allowance behind.
    /// @dev A failing permit is ignored (it may have been front-run); the transfer then needs an
    /// allowance as usual.
    /// @param amount Amount in wei.
    /// @param deadline Permit deadline.
    /// @param v Permit signature v.
    /// @param r Permit signature r.
    /// @param s Permit signature s.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(amount);
    }

    /// @notice Starts unbonding `amount` of the caller's active stake. What remains active must be
    /// zero or at least the minimum. Unbonding amounts add up; the release time restarts.
    /// @param amount Amount in wei.
    function unstake(uint256 amount) external {
        if (amount == 0) revert StakingZeroAmount();
        Position storage p = _positions[msg.sender];
        uint256 active = p.active;
        if (amount > active) revert StakingInsufficientStake(msg.sender, active, amount);
        uint256 remaining;
        // Cannot underflow: amount <= active was checked above.
        unchecked {
            remaining = active - amount;
        }
        if (remaining != 0 && remaining < _minimumStake) {
            revert StakingBelowMinimum(msg.sender, remaining, _minimumStake);
        }
        uint256 unbonding = uint256(p.unbonding) + amount;
        uint256 releaseAt = block.timestamp + _unbondingPeriod;

        p.active = uint96(remaining);
        p.unbonding = unbonding.toUint96();
        p.releaseAt = releaseAt.toUint48();
        if (hasRole(VALIDATOR_ROLE, msg.sender)) _totalValidatorStake -= amount;
        emit UnstakeStarted(msg.sender, amount, unbonding, releaseAt);
    }

    /// @notice Withdraws the caller's unbonded stake once the unbonding period has elapsed.
    function withdraw() external {
        Position storage p = _positions[msg.sender];
        uint256 amount = p.unbonding;
        if (amount == 0) revert StakingNothingUnbonding(msg.sender);
        if (block.timestamp < p.releaseAt) revert StakingUnbondingPending(msg.sender, p.releaseAt, block.timestamp);
        // Stake that backs a run still open to challenges stays slashable: no withdrawal.
        uint256 locks = _locks[msg.sender];
        if (locks != 0) revert StakingLocked(msg.sender, locks);

        p.unbonding = 0;
        p.releaseAt = 0;
        _totalStaked -= amount;
        emit Withdrawn(msg.sender, amount);
        IERC20(address(token)).safeTransfer(msg.sender, amount);
    }

    // ----------------------------------------------------------------------------------------
    // Slashing
    // ----------------------------------------------------------------------------------------

    /// @notice Slashes `amount` of `node`'s stake, active first, then unbonding. The tokens are
    /// burned, or sent to the treasury if one is set.
    /// @param node The slashed account.
    /// @param amount Amount in wei; at most the account's active plus unbonding stake.
    /// @param evidence Hash of the evidence (e.g. the invalid attestation), recorded in the event.
    function slash(address node, uint256 amount, bytes32 evidence) external onlyRole(SLASHER_ROLE) {
        if (amount == 0) revert StakingZeroAmount();
        Position storage p = _positions[node];
        uint256 active = p.active;
        uint256 unbonding = p.unbonding;
        if (amount > active + unbonding) revert StakingSlashExceedsStake(node, amount, active + unbonding);

        uint256 fromActive = amount < active ? amount : active;
        uint256 fromUnbonding;
        // Cannot underflow: fromActive <= amount, and amount - fromActive <= unbonding.
        unchecked {
            fromUnbonding = amount - fromActive;
            p.active = uint96(active - fromActive);
            p.unbonding = uint96(unbonding - fromUnbonding);
        }
        _totalStaked -= amount;
        if (hasRole(VALIDATOR_ROLE, node)) _totalValidatorStake -= fromActive;
        emit Slashed(node, msg.sender, evidence, amount, fromActive, fromUnbonding);

        address treasury_ = _treasury;
        if (treasury_ == address(0)) {
            token.burn(amount);
        } else {
            IERC20(address(token)).safeTransfer(treasury_, amount);
        }
    }

    /// @inheritdoc IStakingManager
    function lock(address node) external onlyRole(LOCKER_ROLE) {
        uint256 locks = _locks[node] + 1;
        _locks[node] = locks;
        emit StakeLocked(node, msg.sender, locks);
    }

    /// @inheritdoc IStakingManager
    function unlock(address node, uint256 count) external onlyRole(LOCKER_ROLE) {
        uint256 locks = _locks[node];
        if (count > locks) revert StakingUnlockExceedsLocks(node, count, locks);
        // Cannot underflow: count <= locks was checked above.
        unchecked {
            locks -= count;
        }
        _locks[node] = locks;
        emit StakeUnlocked(node, msg.sender, count, locks);
    }

    // ----------------------------------------------------------------------------------------
    // Administration
    // ----------------------------------------------------------------------------------------

    /// @notice Sets the minimum active stake. Existing positions below it stay, but cannot grow
    /// or partly unstake until they reach it.
    /// @param minimum New minimum, in wei.
    function setMinimumStake(uint256 minimum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit MinimumStakeUpdated(_minimumStake, minimum);
        _minimumStake = minimum;
    }

    /// @notice Sets the unbonding period for unstakes started from now on.
    /// @param period Seconds, at most `MAX_UNBONDING_PERIOD`.
    function setUnbondingPeriod(uint256 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (period > MAX_UNBONDING_PERIOD) revert StakingUnbondingPeriodTooLong(period, MAX_UNBONDING_PERIOD);
        emit UnbondingPeriodUpdated(_unbondingPeriod, period);
        _unbondingPeriod = period;
    }

    /// @notice Sends future slashes to `treasury_` instead of burning them (zero: burn).
    /// @param treasury_ The treasury address.
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit TreasuryUpdated(_treasury, treasury_);
        _treasury = treasury_;
    }

    // ----------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------

    /// @notice The position of `account`: active stake, unbonding stake, release time, whitelisted.
    function positionOf(address account)
        external
        view
        returns (uint256 active, uint256 unbonding, uint256 releaseAt, bool whitelisted)
    {
        Position memory p = _positions[account];
        return (p.active, p.unbonding, p.releaseAt, p.whitelisted);
    }

    /// @inheritdoc IStakingManager
    function isWhitelisted(address node) external view returns (bool) {
        return _positions[node].whitelisted;
    }

    /// @inheritdoc IStakingManager
    function activeStake(address account) external view returns (uint256) {
        return _positions[account].active;
    }

    /// @inheritdoc IStakingManager
    function isEligible(address node) external view returns (bool) {
        Position memory p = _positions[node];
        return p.whitelisted && p.active >= _minimumStake && p.active != 0;
    }

    /// @inheritdoc IStakingManager
    function minimumStake() external view returns (uint256) {
        return _minimumStake;
    }

    /// @notice Open obligations binding `account`'s stake (runs joined and not yet settled).
    function locksOf(address account) external view returns (uint256) {
        return _locks[account];
    }

    /// @notice Seconds between unstaking and withdrawing.
    function unbondingPeriod() external view returns (uint256) {
        return _unbondingPeriod;
    }

    /// @notice Where slashed tokens go (zero: burned).
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice All stake this contract holds: active plus unbonding, of every account.
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    /// @notice Active stake of `validator`, zero if it does not hold the validator role.
    function validatorStake(address validator) external view returns (uint256) {
        return hasRole(VALIDATOR_ROLE, validator) ? _positions[validator].active : 0;
    }

    /// @notice Sum of the active stake of all validators: the denominator of voting power.
    function totalValidatorStake() external view returns (uint256) {
        return _totalValidatorStake;
    }

    // ----------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------

    function _stake(uint256 amount) private {
        if (amount == 0) revert StakingZeroAmount();
        Position storage p = _positions[msg.sender];
        bool validator = hasRole(VALIDATOR_ROLE, msg.sender);
        if (!p.whitelisted && !validator) revert StakingNotWhitelisted(msg.sender);
        // A stake is a uint96: refuse a larger amount before adding, which could overflow.
        if (amount > type(uint96).max) revert SafeCast.SafeCastOverflowedUintDowncast(96, amount);
        uint256 active = uint256(p.active) + amount;
        if (active < _minimumStake) revert StakingBelowMinimum(msg.sender, active, _minimumStake);

        p.active = active.toUint96();
        _totalStaked += amount;
        if (validator) _totalValidatorStake += amount;
        emit Staked(msg.sender, amount, active);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Granting the validator role turns the account's active stake into voting power.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == VALIDATOR_ROLE) _totalValidatorStake += _positions[account].active;
    }

    /// @dev Revoking the validator role removes the account's voting power.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == VALIDATOR_ROLE) _totalValidatorStake -= _positions[account].active;
    }
}
