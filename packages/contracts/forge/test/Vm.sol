// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The few Foundry cheatcodes these tests use (forge-std is not vendored: offline build).
interface Vm {
    function prank(address sender) external;
    function deal(address account, uint256 balance) external;
    function roll(uint256 blockNumber) external;
    function warp(uint256 timestamp) external;
}

Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

/// @notice `x` folded into [lo, hi] (forge-std's bound, without its logging).
function bound(uint256 x, uint256 lo, uint256 hi) pure returns (uint256) {
    return lo + (x % (hi - lo + 1));
}
