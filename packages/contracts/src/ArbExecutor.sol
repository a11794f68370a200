// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

interface IArbERC20 {
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
}

interface IArbV2Pair {
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}

/// @title ArbExecutor: runs one arbitrage cycle through Uniswap V2-style pairs atomically.
/// @notice Owner-only. The cycle starts and ends in `token`; each hop's output is computed here from
/// the pair's reserves at execution time (the pair's own formula, with the fee given per hop) and
/// sent straight to the next pair. A hop's input is what reached its pair (the pair's balance of
/// the token above its reserve, as UniswapV2Router02's fee-on-transfer swaps measure it), so a
/// token that takes a fee on transfer delivers less and the hop asks for less, instead of the
/// pair refusing the swap. Every intermediate token moves once, pair to pair, in both fundings:
/// from this contract's balance (it pays the first pair), or by a flash swap from the LAST pair
/// (it lends the cycle's final output of `token` up front, which pays the first pair; the hop before
/// it sends its output straight to that pair, the repayment). A fee is therefore charged once per
/// hop either way. Reverts unless this contract's balance of `token` ends at least `minProfit` above
/// where it started (and strictly above), so a trade that would lose reverts and costs only gas.
/// A failure names its place: `HopFailed(hop, pair, reason)` when a pair's swap reverted (its
/// transfer out refused: `UniswapV2: TRANSFER_FAILED`), `TransferFailed(token, to)` when a transfer
/// this contract made failed.
contract ArbExecutor {
    struct Hop {
        address pair;
        /// the token this hop sells (the pair's token0 when zeroForOne, else its token1)
        address tokenIn;
        /// true: token0 in, token1 out
        bool zeroForOne;
        /// fraction of the input that reaches the curve: Uniswap V2 is 997 / 1000
        uint32 feeNum;
        uint32 feeDen;
        /// least output this hop may give (0: no bound). With a flash swap, the last hop's `minOut`
        /// is the amount borrowed (0: computed here along the path, as if no token took a fee).
        uint256 minOut;
    }

    address public owner;
    /// The pair whose swap callback is expected: set only while a flash execution is under way.
    address private expectedPair;

    error NotOwner();
    error BadPath();
    error UnexpectedCallback();
    error TransferFailed(address token, address to);
    error HopFailed(uint256 hop, address pair, bytes reason);
    error HopOutputTooLow(uint256 hop, uint256 amountOut, uint256 minOut);
    error InsufficientProfit(uint256 balanceBefore, uint256 balanceAfter, uint256 minProfit);

    event Executed(address indexed token, uint256 amountIn, uint256 profit, uint256 hops, bool flash);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert NotOwner();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Sends `amount` of `token` held here to `to`.
    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        _transfer(token, to, amount);
        emit Withdrawn(token, to, amount);
    }

    /// @notice Runs the cycle `hops` with `amountIn` of `token`; `flash` borrows the cycle's final
    /// output from the last pair instead of paying from this contract's balance first.
    /// @return profit the rise of this contract's balance of `token`
    function execute(address token, uint256 amountIn, uint256 minProfit, Hop[] calldata hops, bool flash)
        external
        onlyOwner
        returns (uint256 profit)
    {
        if (hops.length < 2 || amountIn == 0) revert BadPath();
        uint256 before = IArbERC20(token).balanceOf(address(this));
        if (flash) {
            _flash(token, amountIn, hops);
        } else {
            _transfer(token, hops[0].pair, amountIn);
            _run(hops, 0, hops.length);
        }
        uint256 afterBalance = IArbERC20(token).balanceOf(address(this));
        if (afterBalance <= before || afterBalance - before < minProfit) {
            revert InsufficientProfit(before, afterBalance, minProfit);
        }
        profit = afterBalance - before;
        emit Executed(token, amountIn, profit, hops.length, flash);
    }

    /// Borrows the cycle's final output from the last pair; the pair calls back `uniswapV2Call`.
    function _flash(address token, uint256 amountIn, Hop[] calldata hops) private {
        uint256 last = hops.length - 1;
        uint256 borrow = hops[last].minOut;
        if (borrow == 0) {
            borrow = amountIn;
            for (uint256 i = 0; i < hops.length; i++) {
                borrow = _amountOut(hops[i], borrow, i);
            }
        }
        address pair = hops[last].pair;
        expectedPair = pair;
        (uint256 a0, uint256 a1) = hops[last].zeroForOne ? (uint256(0), borrow) : (borrow, uint256(0));
        // a V2 pair calls back the receiver of the output: this contract
        try IArbV2Pair(pair).swap(a0, a1, address(this), abi.encode(token, amountIn, borrow, hops)) {}
        catch (bytes memory reason) {
            _failed(last, pair, reason);
        }
        if (expectedPair != address(0)) revert UnexpectedCallback();
    }

    /// @notice The flash swap's callback: only from the pair this contract just called, for a swap
    /// it started. Pays the first pair `amountIn` of `token` (the loan), runs every hop but the last,
    /// the one before it sending its output to the lending pair, and checks that what reached that
    /// pair buys at least the loan at its reserves (the pair's own K check then holds).
    function uniswapV2Call(address sender, uint256, uint256, bytes calldata data) external {
        if (msg.sender != expectedPair || expectedPair == address(0) || sender != address(this)) {
            revert UnexpectedCallback();
        }
        expectedPair = address(0);
        (address token, uint256 amountIn, uint256 borrow, Hop[] memory hops) =
            abi.decode(data, (address, uint256, uint256, Hop[]));
        uint256 last = hops.length - 1;
        _transfer(token, hops[0].pair, amountIn);
        _run(hops, 0, last);
        // the lending pair's reserves are still those before the loan: its input is its balance above them
        Hop memory hop = hops[last];
        (uint256 rIn, uint256 rOut) = _reserves(hop);
        uint256 balance = IArbERC20(hop.tokenIn).balanceOf(hop.pair);
        uint256 inWithFee = (balance > rIn ? balance - rIn : 0) * hop.feeNum;
        uint256 out = (inWithFee * rOut) / (rIn * hop.feeDen + inWithFee);
        if (out < borrow) revert HopOutputTooLow(last, out, borrow);
    }

    /// Hops `start` to `end` (exclusive); the input of hop `start` is already in its pair. The hop
    /// before `end` sends to the pair of hop `end` (this contract when `end` is the cycle's length).
    function _run(Hop[] memory hops, uint256 start, uint256 end) private {
        for (uint256 i = start; i < end; i++) {
            _swap(hops[i], i, i + 1 < hops.length ? hops[i + 1].pair : address(this));
        }
    }

    /// Swaps what reached the pair: its balance of `tokenIn` above its reserve (0 when a token's
    /// transfer left it none, which reverts HopOutputTooLow).
    function _swap(Hop memory hop, uint256 index, address to) private {
        (uint256 rIn, uint256 rOut) = _reserves(hop);
        uint256 balance = IArbERC20(hop.tokenIn).balanceOf(hop.pair);
        uint256 out = _amountOutAt(hop, balance > rIn ? balance - rIn : 0, rIn, rOut, index);
        (uint256 a0, uint256 a1) = hop.zeroForOne ? (uint256(0), out) : (out, uint256(0));
        try IArbV2Pair(hop.pair).swap(a0, a1, to, new bytes(0)) {}
        catch (bytes memory reason) {
            _failed(index, hop.pair, reason);
        }
    }

    /// A pair's swap reverted: this contract's own errors (from a callback) pass through as they
    /// are, anything else (the pair's, or its tokens') is wrapped with the hop and pair it came from.
    function _failed(uint256 index, address pair, bytes memory reason) private pure {
        if (reason.length >= 4) {
            bytes4 selector = bytes4(reason);
            if (
                selector == HopFailed.selector || selector == TransferFailed.selector
                    || selector == HopOutputTooLow.selector || selector == UnexpectedCallback.selector
            ) {
                assembly {
                    revert(add(reason, 32), mload(reason))
                }
            }
        }
        revert HopFailed(index, pair, reason);
    }

    /// UniswapV2Library.getAmountOut with the hop's fee, at the pair's current reserves.
    function _amountOut(Hop memory hop, uint256 amountIn, uint256 index) private view returns (uint256) {
        (uint256 rIn, uint256 rOut) = _reserves(hop);
        return _amountOutAt(hop, amountIn, rIn, rOut, index);
    }

    /// The hop's (input, output) reserves.
    function _reserves(Hop memory hop) private view returns (uint256 rIn, uint256 rOut) {
        (uint112 r0, uint112 r1,) = IArbV2Pair(hop.pair).getReserves();
        (rIn, rOut) = hop.zeroForOne ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
    }

    function _amountOutAt(Hop memory hop, uint256 amountIn, uint256 rIn, uint256 rOut, uint256 index)
        private
        pure
        returns (uint256 out)
    {
        uint256 inWithFee = amountIn * hop.feeNum;
        out = (inWithFee * rOut) / (rIn * hop.feeDen + inWithFee);
        if (out == 0 || out < hop.minOut) revert HopOutputTooLow(index, out, hop.minOut);
    }

    function _transfer(address token, address to, uint256 amount) private {
        (bool ok, bytes memory ret) = token.call(abi.encodeWithSelector(IArbERC20.transfer.selector, to, amount));
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool)))) revert TransferFailed(token, to);
    }
}
