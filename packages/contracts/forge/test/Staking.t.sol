// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Staking} from "../../src/Staking.sol";
import {bound, vm} from "./Vm.sol";

/// @notice Delegators and operators doing anything in any order — delegate, undelegate, redelegate,
///         withdraw, blocks passing — and the system paying block rewards; what the contract owes
///         must always equal what it holds.
contract StakingHandler {
    address internal constant SYSTEM = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    Staking public immutable staking;
    address[] internal operators;
    address[] internal consensus;
    address[4] internal delegators = [address(0x2001), address(0x2002), address(0x2003), address(0x2004)];
    uint256 public paidIn; // delegations, genesis bonds and rewards
    uint256 public paidOut; // what withdrawals sent out

    constructor(Staking s, address[] memory ops, address[] memory cons, uint256 genesis) {
        staking = s;
        operators = ops;
        consensus = cons;
        paidIn = genesis;
    }

    function _who(uint256 i) internal view returns (address) {
        return i % 5 == 4 ? operators[(i / 5) % operators.length] : delegators[i % 4];
    }

    function delegate(uint256 who, uint256 op, uint256 amount) external {
        address d = _who(who);
        amount = bound(amount, 1, 1e24);
        vm.deal(d, amount);
        vm.prank(d);
        try staking.delegate{value: amount}(operators[op % operators.length]) {
            paidIn += amount;
        } catch {}
    }

    function undelegate(uint256 who, uint256 op, uint256 pct) external {
        address d = _who(who);
        address o = operators[op % operators.length];
        uint256 amount = (staking.delegationOf(d, o) * bound(pct, 1, 100)) / 100;
        if (amount == 0) return;
        vm.prank(d);
        try staking.undelegate(o, amount) {} catch {}
    }

    function redelegate(uint256 who, uint256 src, uint256 dst, uint256 pct) external {
        address d = _who(who);
        address s = operators[src % operators.length];
        address t = operators[dst % operators.length];
        uint256 amount = (staking.delegationOf(d, s) * bound(pct, 1, 100)) / 100;
        if (amount == 0 || s == t) return;
        vm.prank(d);
        try staking.redelegate(s, t, amount) {} catch {}
    }

    function advance(uint256 blocks) external {
        vm.roll(block.number + bound(blocks, 1, 20));
        vm.warp(block.timestamp + 2);
    }

    function withdrawUnbonded(uint256 who) external {
        address d = _who(who);
        uint256 before = d.balance;
        vm.prank(d);
        try staking.withdrawUnbonded() {
            paidOut += d.balance - before;
        } catch {}
    }

    function withdrawRewards(uint256 who, uint256 op) external {
        address d = _who(who);
        uint256 before = d.balance;
        vm.prank(d);
        try staking.withdrawRewards(operators[op % operators.length]) {
            paidOut += d.balance - before;
        } catch {}
    }

    function withdrawCommission(uint256 op) external {
        address o = operators[op % operators.length];
        uint256 before = o.balance;
        vm.prank(o);
        try staking.withdrawCommission() {
            paidOut += o.balance - before;
        } catch {}
    }

    /// The system's block reward: `mask` picks who signed, the rest missed.
    function reward(uint256 amount, uint256 mask) external {
        amount = bound(amount, 0, 1e21);
        uint256 n = consensus.length;
        uint256 signedCount;
        for (uint256 i = 0; i < n; i++) if ((mask >> i) & 1 == 1) signedCount++;
        address[] memory signed = new address[](signedCount);
        address[] memory missed = new address[](n - signedCount);
        (uint256 a, uint256 b) = (0, 0);
        for (uint256 i = 0; i < n; i++) {
            if ((mask >> i) & 1 == 1) signed[a++] = consensus[i];
            else missed[b++] = consensus[i];
        }
        vm.deal(SYSTEM, amount);
        vm.prank(SYSTEM);
        try staking.reward{value: amount}(signed, missed) {
            paidIn += amount;
        } catch {}
    }
}

contract StakingInvariantTest {
    address internal constant SYSTEM = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    Staking internal staking;
    StakingHandler internal handler;

    function setUp() public {
        staking = new Staking();
        uint256 n = 3;
        address[] memory ops = new address[](n);
        address[] memory cons = new address[](n);
        uint256[] memory bonds = new uint256[](n);
        uint16[] memory commissions = new uint16[](n);
        uint256 sum;
        for (uint256 i = 0; i < n; i++) {
            ops[i] = address(uint160(0x1001 + i));
            cons[i] = address(uint160(0xc001 + i));
            bonds[i] = (i + 1) * 1e21;
            commissions[i] = uint16(500 * (i + 1));
            sum += bonds[i];
        }
        Staking.Params memory p = Staking.Params({
            epochLength: 10,
            maxValidators: 3,
            minSelfBond: 1e18,
            powerReduction: 1e18,
            unbondingBlocks: 15,
            issuancePerBlock: 0,
            annualRateBps: 0,
            blocksPerYear: 0,
            communityTaxBps: 200,
            signedBlocksWindow: 100,
            minSignedPerWindowBps: 0, // downtime never jails here: rewards keep flowing to all
            slashFractionDoubleSignBps: 500,
            slashFractionDowntimeBps: 0,
            downtimeJailSeconds: 0,
            maxPowerChangeBps: 3332
        });
        vm.deal(SYSTEM, sum);
        vm.prank(SYSTEM);
        staking.initialize{value: sum}(p, address(0x60f), ops, cons, bonds, commissions);
        handler = new StakingHandler(staking, ops, cons, sum);
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// The contract's balance is exactly what it owes: bonded + unbonding + unpaid rewards + unpaid
    /// commission + the community pool (Staking.accounting's own statement).
    function invariant_balanceEqualsWhatIsOwed() public view {
        (uint256 bonded, uint256 unbonding, uint256 rewards, uint256 commissions, uint256 pool,) = staking.accounting();
        require(address(staking).balance == bonded + unbonding + rewards + commissions + pool, "accounting broken");
    }

    /// Nothing is created or lost: what came in minus what went out is what the contract holds.
    function invariant_conservation() public view {
        (,,,,, uint256 burned) = staking.accounting();
        require(address(staking).balance + burned == handler.paidIn() - handler.paidOut(), "value created or lost");
    }

    /// Bonded tokens are the validators' tokens, and the active set's power never exceeds them.
    function invariant_bondedIsTheSumOfValidators() public view {
        address[] memory c = staking.candidates();
        uint256 sum;
        for (uint256 i = 0; i < c.length; i++) {
            (, uint256 tokens,,,,,,) = staking.getValidator(c[i]);
            sum += tokens;
        }
        require(sum == staking.totalBonded(), "totalBonded differs from the validators' tokens");
    }
}
