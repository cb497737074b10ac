// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {StakingManager} from "./StakingManager.sol";

/// @title SettlementRegistry
/// @notice Validators publish each settled NASH challenge: its id, the settlement hash, the
/// compact terms (party, resource, quantity, price per fill) and the winning miner. The full
/// intents stay off-chain; this is the public, append-only record of what was settled.
/// @dev A validator is an account holding the staking contract's VALIDATOR_ROLE with a nonzero
/// active stake (`StakingManager.validatorStake`). One record per challenge id, never overwritten.
contract SettlementRegistry {
    /// @notice One fill of a settlement.
    /// @param party The party's account.
    /// @param resource Index of the resource in the challenge (the canonical order of `nash`).
    /// @param quantity Signed quantity in the resource's units: positive received, negative delivered.
    /// @param price Price per unit, in wei.
    struct Term {
        address party;
        uint32 resource;
        int128 quantity;
        uint128 price;
    }

    /// @notice A published settlement.
    /// @param settlementHash Hash of the full settlement (the `nash` canonical hash).
    /// @param winner The miner whose answer was settled.
    /// @param publisher The validator that published it.
    /// @param publishedAt Block timestamp of publication.
    /// @param terms The compact terms.
    struct Settlement {
        bytes32 settlementHash;
        address winner;
        address publisher;
        uint48 publishedAt;
        Term[] terms;
    }

    /// @dev The caller is not a staked validator.
    error NotValidator(address account);
    /// @dev A settlement for this challenge id was already published.
    error AlreadyPublished(bytes32 challengeId);
    /// @dev No settlement was published for this challenge id.
    error NotPublished(bytes32 challengeId);
    /// @dev A zero challenge id, settlement hash or staking address was given.
    error SettlementZeroValue();

    /// @notice `publisher` published the settlement of `challengeId`, won by `winner`.
    event SettlementPublished(
        bytes32 indexed challengeId,
        address indexed winner,
        address indexed publisher,
        bytes32 settlementHash,
        Term[] terms
    );

    /// @notice Where validator status is read.
    StakingManager public immutable staking;

    mapping(bytes32 challengeId => Settlement) private _settlements;
    uint256 private _count;

    /// @param staking_ The staking contract whose validators may publish.
    constructor(StakingManager staking_) {
        if (address(staking_) == address(0)) revert SettlementZeroValue();
        staking = staking_;
    }

    /// @notice Publishes the settlement of `challengeId`. Only staked validators; once per id.
    /// @param challengeId The challenge's id.
    /// @param settlementHash Hash of the full settlement.
    /// @param winner The winning miner.
    /// @param terms The compact terms (one entry per fill).
    function publish(bytes32 challengeId, bytes32 settlementHash, address winner, Term[] calldata terms) external {
        if (staking.validatorStake(msg.sender) == 0) revert NotValidator(msg.sender);
        if (challengeId == bytes32(0) || settlementHash == bytes32(0)) revert SettlementZeroValue();
        Settlement storage s = _settlements[challengeId];
        if (s.settlementHash != bytes32(0)) revert AlreadyPublished(challengeId);

        s.settlementHash = settlementHash;
        s.winner = winner;
        s.publisher = msg.sender;
        s.publishedAt = uint48(block.timestamp);
        for (uint256 i = 0; i < terms.length; ++i) {
            s.terms.push(terms[i]);
        }
        ++_count;
        emit SettlementPublished(challengeId, winner, msg.sender, settlementHash, terms);
    }

    /// @notice The settlement published for `challengeId`; reverts `NotPublished` if there is none.
    /// @param challengeId The challenge's id.
    function settlementOf(bytes32 challengeId) external view returns (Settlement memory) {
        Settlement memory s = _settlements[challengeId];
        if (s.settlementHash == bytes32(0)) revert NotPublished(challengeId);
        return s;
    }

    /// @notice Whether a settlement was published for `challengeId`.
    /// @param challengeId The challenge's id.
    function isPublished(bytes32 challengeId) external view returns (bool) {
        return _settlements[challengeId].settlementHash != bytes32(0);
    }

    /// @notice Number of settlements published.
    function settlementCount() external view returns (uint256) {
        return _count;
    }
}
