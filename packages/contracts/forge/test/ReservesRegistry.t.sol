// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ReservesRegistry} from "../../src/ReservesRegistry.sol";
import {bound, vm} from "./Vm.sol";

/// @notice Random owners, publishers and anchors; the ghost state says what the registry must hold.
contract RegistryHandler {
    ReservesRegistry public immutable registry;
    address[4] internal actors = [address(0x1001), address(0x1002), address(0x1003), address(0x1004)];
    address public owner;
    uint256 public anchored;
    mapping(bytes32 => bytes32) public rootOf; // keccak(id) → the root it was anchored with

    constructor(ReservesRegistry r) {
        registry = r;
        owner = address(this);
    }

    function setPublisher(uint256 actor, bool allowed) external {
        vm.prank(owner);
        registry.setPublisher(actors[actor % 4], allowed);
    }

    function transferOwnership(uint256 actor) external {
        address next = actors[actor % 4];
        vm.prank(owner);
        registry.transferOwnership(next);
        owner = next;
    }

    function anchor(uint256 actor, uint8 id, bytes32 root, uint128 total) external {
        if (root == bytes32(0)) root = keccak256(abi.encode(id));
        address who = actors[actor % 4];
        string memory sid = string(abi.encodePacked("s-", uint8(48 + (id % 10))));
        string[] memory currencies = new string[](1);
        currencies[0] = "BTC";
        uint128[] memory totals = new uint128[](1);
        totals[0] = total;
        bool was = registry.isAnchored(sid);
        bool allowed = registry.isPublisher(who);
        vm.prank(who);
        try registry.anchor(sid, root, "sha256", currencies, totals) {
            require(allowed && !was, "anchored by a non-publisher, or twice");
            anchored++;
            rootOf[keccak256(bytes(sid))] = root;
        } catch (bytes memory err) {
            bytes4 sel = bytes4(err);
            require(
                (!allowed && sel == ReservesRegistry.NotPublisher.selector)
                    || (allowed && was && sel == ReservesRegistry.AlreadyAnchored.selector),
                "refused for another reason"
            );
        }
    }
}

contract ReservesRegistryTest {
    ReservesRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        registry = new ReservesRegistry();
        handler = new RegistryHandler(registry);
        registry.transferOwnership(address(handler));
    }

    /// @dev forge's invariant runs call only the handler.
    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// A published root is final, and every successful anchor is counted once.
    function invariant_anchoredRootsAreFinal() public view {
        require(registry.snapshotCount() == handler.anchored(), "count differs from the anchors made");
        for (uint256 i = 0; i < registry.snapshotCount(); i++) {
            string memory sid = registry.snapshotIdAt(i);
            require(registry.getSnapshot(sid).rootHash == handler.rootOf(keccak256(bytes(sid))), "a root changed");
        }
    }

    function invariant_ownerIsTheHandlersLast() public view {
        require(registry.owner() == handler.owner(), "ownership moved without transferOwnership");
    }

    /// Anyone but a publisher is refused, whatever the snapshot.
    function testFuzz_onlyPublishersAnchor(address caller, bytes32 root, uint128 total) public {
        if (registry.isPublisher(caller)) return;
        if (root == bytes32(0)) root = bytes32(uint256(1));
        string[] memory c = new string[](1);
        c[0] = "ETH";
        uint128[] memory t = new uint128[](1);
        t[0] = total;
        vm.prank(caller);
        try registry.anchor("x", root, "sha256", c, t) {
            revert("a non-publisher anchored");
        } catch (bytes memory err) {
            require(bytes4(err) == ReservesRegistry.NotPublisher.selector, "wrong refusal");
        }
    }

    /// Whatever id (1-64 bytes) and totals, the stored snapshot is what was anchored.
    function testFuzz_anchorStoresWhatWasGiven(bytes calldata rawId, bytes32 root, uint128 a, uint128 b) public {
        uint256 len = bound(rawId.length, 1, 64);
        bytes memory id = new bytes(len);
        for (uint256 i = 0; i < len; i++) id[i] = i < rawId.length ? rawId[i] : bytes1(0x61);
        if (root == bytes32(0)) root = bytes32(uint256(7));
        string[] memory c = new string[](2);
        c[0] = "BTC";
        c[1] = "ETH";
        uint128[] memory t = new uint128[](2);
        t[0] = a;
        t[1] = b;
        // this contract deployed the registry: a publisher (ownership went to the handler; publishers stay)
        registry.anchor(string(id), root, "sha256", c, t);
        ReservesRegistry.Snapshot memory s = registry.getSnapshot(string(id));
        require(s.rootHash == root && s.totals[0] == a && s.totals[1] == b, "stored snapshot differs");
        require(s.publisher == address(this), "publisher differs");
        try registry.anchor(string(id), bytes32(uint256(root) ^ 1), "sha256", c, t) {
            revert("anchored twice");
        } catch (bytes memory err) {
            require(bytes4(err) == ReservesRegistry.AlreadyAnchored.selector, "wrong refusal");
        }
    }
}
