// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title PIN, the Prime Intellect Network token
/// @notice ERC-20 with permit, a hard supply cap, burning, and role-gated minting. The token
/// counts every unit it ever minted and burned, so `totalMinted() == totalSupply() + totalBurned()`
/// can be checked on-chain at any time.
contract PINToken is ERC20, ERC20Burnable, ERC20Capped, ERC20Permit, AccessControl {
    /// @notice Role allowed to mint new PIN (the protocol's emission schedule, the deployer on a devnet).
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @dev The admin address given to the constructor is zero.
    error PINZeroAdmin();

    uint256 private _totalMinted;
    uint256 private _totalBurned;

    /// @param admin Receives the admin and minter roles.
    /// @param cap_ Maximum total supply, in wei (18 decimals).
    constructor(address admin, uint256 cap_)
        ERC20("Prime Intellect Network", "PIN")
        ERC20Capped(cap_)
        ERC20Permit("Prime Intellect Network")
    {
        if (admin == address(0)) revert PINZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mints `amount` PIN (wei) to `to`; reverts with `ERC20ExceededCap` beyond the cap.
    /// @param to Recipient.
    /// @param amount Amount in wei.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        // Checked here so that an amount overflowing `totalSupply() + amount` is named too (the
        // supply's addition would otherwise panic before the cap is checked).
        uint256 supply = totalSupply();
        if (amount > cap() - supply) {
            uint256 increased = amount > type(uint256).max - supply ? type(uint256).max : supply + amount;
            revert ERC20ExceededCap(increased, cap());
        }
        _mint(to, amount);
    }

    /// @notice Every unit ever minted.
    function totalMinted() external view returns (uint256) {
        return _totalMinted;
    }

    /// @notice Every unit ever burned.
    function totalBurned() external view returns (uint256) {
        return _totalBurned;
    }

    /// @dev The single write path of balances: counts mints and burns, then enforces the cap.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        if (from == address(0)) _totalMinted += value;
        if (to == address(0)) _totalBurned += value;
        super._update(from, to, value);
    }
}
