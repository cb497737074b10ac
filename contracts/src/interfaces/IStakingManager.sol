// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Staking of compute nodes and validators
/// @notice Whitelisted compute nodes (and validators) lock PIN here. Unstaking goes through an
/// unbonding period; slashing takes from the stake this contract actually holds.
interface IStakingManager {
    /// @dev The account is not on the compute-node whitelist (and is not a validator).
    error StakingNotWhitelisted(address node);
    /// @dev The account is already on the whitelist.
    error StakingAlreadyWhitelisted(address node);
    /// @dev An amount of zero was given.
    error StakingZeroAmount();
    /// @dev The active stake would end between zero and the minimum.
    error StakingBelowMinimum(address node, uint256 stake, uint256 minimum);
    /// @dev The account tried to unstake more than its active stake.
    error StakingInsufficientStake(address node, uint256 active, uint256 requested);
    /// @dev Nothing is unbonding for the account.
    error StakingNothingUnbonding(address node);
    /// @dev The unbonding period has not elapsed.
    error StakingUnbondingPending(address node, uint256 releaseAt, uint256 now_);
    /// @dev The slash asks for more than the account has staked (active plus unbonding).
    error StakingSlashExceedsStake(address node, uint256 requested, uint256 staked);
    /// @dev The unbonding period is longer than the allowed maximum.
    error StakingUnbondingPeriodTooLong(uint256 period, uint256 maximum);
    /// @dev A zero address was given where an account is required.
    error StakingZeroAddress();
    /// @dev The stake backs runs whose challenge windows are not settled yet.
    error StakingLocked(address node, uint256 openRuns);
    /// @dev More locks released than the account holds.
    error StakingUnlockExceedsLocks(address node, uint256 requested, uint256 locks);

    /// @notice `node` was added to the compute-node whitelist.
    event NodeWhitelisted(address indexed node, address indexed by);
    /// @notice `node` was removed from the whitelist; its stake stays until it unstakes.
    event NodeRemovedFromWhitelist(address indexed node, address indexed by);
    /// @notice `node` staked `amount`; its active stake is now `active`.
    event Staked(address indexed node, uint256 amount, uint256 active);
    /// @notice `node` began unbonding `amount`, withdrawable from `releaseAt`.
    event UnstakeStarted(address indexed node, uint256 amount, uint256 unbonding, uint256 releaseAt);
    /// @notice `node` withdrew `amount` of unbonded stake.
    event Withdrawn(address indexed node, uint256 amount);
    /// @notice `node` lost `amount` (`fromActive` + `fromUnbonding`) for `evidence`.
    event Slashed(
        address indexed node,
        address indexed slasher,
        bytes32 indexed evidence,
        uint256 amount,
        uint256 fromActive,
        uint256 fromUnbonding
    );
    /// @notice `locker` bound `node`'s stake to one more run; `locks` are now open.
    event StakeLocked(address indexed node, address indexed locker, uint256 locks);
    /// @notice `locker` released `count` of `node`'s locks; `locks` remain.
    event StakeUnlocked(address indexed node, address indexed locker, uint256 count, uint256 locks);
    /// @notice The minimum active stake changed.
    event MinimumStakeUpdated(uint256 previous, uint256 current);
    /// @notice The unbonding period changed.
    event UnbondingPeriodUpdated(uint256 previous, uint256 current);
    /// @notice Slashed tokens now go to `current` (zero: burned).
    event TreasuryUpdated(address previous, address current);

    /// @notice Whether `node` is on the compute-node whitelist.
    function isWhitelisted(address node) external view returns (bool);
    /// @notice Active (not unbonding) stake of `account`.
    function activeStake(address account) external view returns (uint256);
    /// @notice Whether `node` may join training runs: whitelisted with at least the minimum stake.
    function isEligible(address node) external view returns (bool);
    /// @notice The minimum active stake.
    function minimumStake() external view returns (uint256);
    /// @notice Slashes `amount` of `node`'s stake, citing `evidence`.
    function slash(address node, uint256 amount, bytes32 evidence) external;
    /// @notice Binds `node`'s stake (active and unbonding) to one more open obligation: it cannot
    /// be withdrawn until every lock is released.
    function lock(address node) external;
    /// @notice Releases `count` of `node`'s locks.
    function unlock(address node, uint256 count) external;
}
