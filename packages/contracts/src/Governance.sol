// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @dev What Governance reads from and calls on Staking (src/Staking.sol, genesis address 0x…1000).
interface IStakingForGovernance {
    function totalBonded() external view returns (uint256);
    function delegationsOf(address delegator) external view returns (address[] memory, uint256[] memory);
    function votingPowerOf(address delegator) external view returns (uint256);
    function getValidator(address operator)
        external
        view
        returns (address, uint256, uint256, uint16, bool, bool, uint64, string memory);
}

/// @title Governance
/// @notice Cairn's on-chain governance system contract (genesis address 0x…1001): proposals with a
///         deposit, a voting period, yes / abstain / no / no-with-veto votes weighted by bonded stake
///         at the tally (Cosmos x/gov: a delegator who does not vote inherits its validator's vote),
///         quorum, threshold and veto; passed proposals run their actions after a timelock. Actions
///         may only change staking parameters, spend the community pool, change governance and chain
///         parameters, and schedule or cancel a named upgrade. See docs/consensus/governance.md.
/// @dev    Placed in genesis as runtime code (no constructor); `initialize` is called once by the
///         system address. The engine reads `chainParams()` and `upgradePlan()`.
contract Governance {
    address public constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    uint256 internal constant BPS = 10_000;
    uint256 public constant MAX_ACTIONS = 16;
    uint256 public constant MAX_VOTERS = 1000;
    /// @notice Steps one `tally` call does (2 steps per voter: its delegations, then its validator's
    ///         remaining tokens): 32 voters' 32 delegations each stay under the 2^24 gas cap (EIP-7825).
    uint256 public constant TALLY_BATCH = 32;
    uint256 public constant MAX_TITLE_BYTES = 140;
    uint256 public constant MAX_DESCRIPTION_BYTES = 10_000;
    uint256 public constant MAX_UPGRADE_NAME_BYTES = 64;

    // ---- parameter bounds (docs/consensus/governance.md "Parameter bounds" derives each) ----
    /// @notice The longest voting period and timelock (a year of one-second blocks): governance can
    ///         always undo its own change within a bounded time, and block sums stay far from 2^64.
    uint64 public constant MAX_PERIOD_BLOCKS = 31_536_000;
    /// @notice Quorum and threshold at most 2/3 (6666 bps), veto at least 1/3 (3334 bps): the honest
    ///         2/3 of the stake BFT assumes can always pass a proposal, the other 1/3 cannot veto it.
    uint16 public constant MAX_QUORUM_BPS = 6666;
    uint16 public constant MAX_THRESHOLD_BPS = 6666;
    uint16 public constant MIN_VETO_BPS = 3334;
    /// @notice The highest `minBaseFee` (100 gwei): a transaction at the 2^24 gas cap (EIP-7825), the
    ///         largest a tally step needs, costs at most 1.68 coins at the floor; a vote ~0.01.
    uint256 public constant MAX_MIN_BASE_FEE = 100 gwei;
    /// @notice Block gas limit bounds: a tally step (up to the 2^24 tx cap) needs room above 5M in
    ///         practice; 500M keeps a full block's execution within a few BFT rounds.
    uint64 public constant MIN_BLOCK_GAS_LIMIT = 5_000_000;
    uint64 public constant MAX_BLOCK_GAS_LIMIT = 500_000_000;
    /// @notice The longest block time the engine follows (an hour, MAX_BLOCK_TIME_MS in the engine).
    uint64 public constant MAX_BLOCK_TIME_MS = 3_600_000;

    uint8 public constant OPTION_YES = 1;
    uint8 public constant OPTION_ABSTAIN = 2;
    uint8 public constant OPTION_NO = 3;
    uint8 public constant OPTION_VETO = 4;

    uint8 public constant STATUS_VOTING = 1;
    uint8 public constant STATUS_PASSED = 2;
    uint8 public constant STATUS_REJECTED = 3;
    uint8 public constant STATUS_EXECUTED = 4;
    uint8 public constant STATUS_EXPIRED = 5;

    struct GovParams {
        uint256 minDeposit;
        uint64 votingPeriodBlocks;
        uint64 timelockBlocks;
        uint16 quorumBps;
        uint16 thresholdBps;
        uint16 vetoBps;
    }

    struct ChainParams {
        uint64 blockGasLimit;
        uint256 minBaseFee;
        uint64 blockTimeMs;
    }

    struct Action {
        address target;
        uint256 value;
        bytes data;
    }

    /// @notice A proposal as `getProposal` returns it. Block numbers; 0 while not yet known.
    struct ProposalView {
        uint256 id;
        address proposer;
        uint256 deposit;
        uint8 status;
        uint64 submitBlock;
        uint64 votingEndBlock;
        uint64 executableAtBlock;
        uint64 expiresAtBlock;
        uint256 yes;
        uint256 abstain;
        uint256 no;
        uint256 veto;
        uint256 voters;
        bool depositBurned;
        string title;
        string description;
        Action[] actions;
    }

    struct Proposal {
        address proposer;
        uint8 status;
        bool depositBurned;
        uint64 submitBlock;
        uint64 votingEndBlock;
        uint64 executableAtBlock;
        uint64 expiresAtBlock;
        uint256 deposit;
        uint256 yes;
        uint256 abstain;
        uint256 no;
        uint256 veto;
        string title;
        string description;
        Action[] actions;
        address[] voters;
    }

    struct UpgradePlan {
        string name;
        uint64 height;
    }

    GovParams internal _gov;
    ChainParams internal _chain;
    UpgradePlan internal _upgrade;
    address public staking;
    bool public initialized;
    uint256 public proposalCount;
    /// @notice Deposits burned (vetoed or no quorum), sent to address(0).
    uint256 public burned;
    mapping(uint256 => Proposal) internal _proposals;
    mapping(uint256 => mapping(address => uint8)) internal _votes;
    mapping(uint256 => mapping(address => uint256)) internal _deductions; // tally scratch: id → operator → tokens
    mapping(uint256 => uint256[5]) internal _sums; // tally scratch: id → tokens by option
    mapping(uint256 => uint256) internal _cursor; // tally progress: 0..2 × voters
    uint256 internal _lock;

    event Initialized(address staking);
    event ProposalSubmitted(uint256 indexed id, address indexed proposer, uint256 deposit, uint64 votingEndBlock, string title);
    event Voted(uint256 indexed id, address indexed voter, uint8 option);
    event TallyProgress(uint256 indexed id, uint256 done, uint256 total);
    event ProposalTallied(
        uint256 indexed id, uint8 status, uint256 yes, uint256 abstain, uint256 no, uint256 veto, bool depositBurned
    );
    event DepositRefunded(uint256 indexed id, address indexed proposer, uint256 amount);
    event DepositBurned(uint256 indexed id, uint256 amount);
    event ProposalExecuted(uint256 indexed id);
    event ProposalExpired(uint256 indexed id);
    event GovParamsSet(GovParams p);
    event ChainParamsSet(ChainParams p);
    event UpgradeScheduled(string name, uint64 height);
    event UpgradeCancelled(string name, uint64 height);

    error NotSystem();
    error NotSelf();
    error AlreadyInitialized();
    error NotInitialized();
    error Reentrancy();
    error ZeroAddress();
    error InvalidParams(string reason);
    error DepositTooLow(uint256 deposit, uint256 min);
    error TooManyActions(uint256 count, uint256 max);
    error ActionNotAllowed(uint256 index, address target, bytes4 selector);
    error ActionValueNotAllowed(uint256 index);
    error TitleInvalid(uint256 length, uint256 max);
    error DescriptionTooLong(uint256 length, uint256 max);
    error UnknownProposal(uint256 id);
    error InvalidOption(uint8 option);
    error VotingClosed(uint256 id, uint64 votingEndBlock);
    error VotingNotEnded(uint256 id, uint64 votingEndBlock);
    error TooManyVoters(uint256 max);
    error NoVotingPower(address voter);
    error NotVoting(uint256 id, uint8 status);
    error NotPassed(uint256 id, uint8 status);
    error TimelockActive(uint256 id, uint64 executableAtBlock);
    error ProposalExpiredError(uint256 id, uint64 expiresAtBlock);
    error ActionFailed(uint256 index, bytes reason);
    error UpgradeHeightNotInFuture(uint64 height, uint256 current);
    error UpgradeNameInvalid(uint256 length, uint256 max);
    error NoUpgradeScheduled();
    error TransferFailed(address to, uint256 amount);

    modifier onlySystem() {
        if (msg.sender != SYSTEM_ADDRESS) revert NotSystem();
        _;
    }

    modifier onlySelf() {
        if (msg.sender != address(this)) revert NotSelf();
        _;
    }

    modifier nonReentrant() {
        if (_lock == 1) revert Reentrancy();
        _lock = 1;
        _;
        _lock = 0;
    }

    function initialize(GovParams calldata g, ChainParams calldata c, address staking_) external onlySystem {
        if (initialized) revert AlreadyInitialized();
        if (staking_ == address(0)) revert ZeroAddress();
        _checkGovBounds(g);
        _checkChain(c);
        _gov = g;
        _chain = c;
        staking = staking_;
        initialized = true;
        emit Initialized(staking_);
        emit GovParamsSet(g);
        emit ChainParamsSet(c);
    }

    // ---- proposals ----

    function submitProposal(Action[] calldata actions, string calldata title, string calldata description)
        external
        payable
        returns (uint256 id)
    {
        if (!initialized) revert NotInitialized();
        if (msg.value < _gov.minDeposit) revert DepositTooLow(msg.value, _gov.minDeposit);
        if (actions.length > MAX_ACTIONS) revert TooManyActions(actions.length, MAX_ACTIONS);
        if (bytes(title).length == 0 || bytes(title).length > MAX_TITLE_BYTES) {
            revert TitleInvalid(bytes(title).length, MAX_TITLE_BYTES);
        }
        if (bytes(description).length > MAX_DESCRIPTION_BYTES) {
            revert DescriptionTooLong(bytes(description).length, MAX_DESCRIPTION_BYTES);
        }
        for (uint256 i = 0; i < actions.length; i++) _checkAction(i, actions[i]);
        id = ++proposalCount;
        Proposal storage p = _proposals[id];
        p.proposer = msg.sender;
        p.status = STATUS_VOTING;
        p.submitBlock = uint64(block.number);
        p.votingEndBlock = uint64(block.number) + _gov.votingPeriodBlocks;
        p.deposit = msg.value;
        p.title = title;
        p.description = description;
        for (uint256 i = 0; i < actions.length; i++) p.actions.push(actions[i]);
        emit ProposalSubmitted(id, msg.sender, msg.value, p.votingEndBlock, title);
    }

    /// @dev Only calls Governance may make: Staking.setParams / spendCommunityPool, and this
    ///      contract's setGovParams / setChainParams / scheduleUpgrade / cancelUpgrade. No value.
    ///      A parameter change is checked now, against the bounds its setter checks again when it
    ///      runs (as Cosmos SDK validates a param set before storing it): a proposal that could only
    ///      fail, or whose change could stop the chain, is refused at submission (`InvalidParams`).
    function _checkAction(uint256 i, Action calldata a) internal view {
        if (a.value != 0) revert ActionValueNotAllowed(i);
        bytes4 sel = a.data.length >= 4 ? bytes4(a.data[0:4]) : bytes4(0);
        if (a.target == staking) {
            // setParams((uint64,uint32,uint256,uint256,uint64,uint256,uint16,uint64,uint16,uint64,uint16,uint16,uint16,uint64,uint16))
            if (sel == STAKING_SET_PARAMS) return _checkStakingParams(a.data);
            if (sel == STAKING_SPEND_POOL) return;
        } else if (a.target == address(this)) {
            if (sel == this.setGovParams.selector) {
                if (a.data.length != 4 + 6 * 32) revert InvalidParams("setGovParams takes one GovParams");
                return _checkGov(abi.decode(a.data[4:], (GovParams)));
            }
            if (sel == this.setChainParams.selector) {
                if (a.data.length != 4 + 3 * 32) revert InvalidParams("setChainParams takes one ChainParams");
                return _checkChain(abi.decode(a.data[4:], (ChainParams)));
            }
            if (sel == this.scheduleUpgrade.selector || sel == this.cancelUpgrade.selector) return;
        }
        revert ActionNotAllowed(i, a.target, sel);
    }

    /// @dev Staking.checkParams on a setParams action's argument; its `InvalidParams(reason)` is
    ///      passed on as it is (Governance declares the same error).
    function _checkStakingParams(bytes calldata data) internal view {
        if (data.length != 4 + 15 * 32) revert InvalidParams("setParams takes one Params");
        (bool ok, bytes memory ret) = staking.staticcall(abi.encodePacked(STAKING_CHECK_PARAMS, data[4:]));
        if (ok) return;
        if (ret.length == 0) revert InvalidParams("setParams: the Params do not decode");
        assembly {
            revert(add(ret, 32), mload(ret))
        }
    }

    bytes4 internal constant STAKING_SET_PARAMS = bytes4(
        keccak256(
            "setParams((uint64,uint32,uint256,uint256,uint64,uint256,uint16,uint64,uint16,uint64,uint16,uint16,uint16,uint64,uint16))"
        )
    );
    bytes4 internal constant STAKING_SPEND_POOL = bytes4(keccak256("spendCommunityPool(address,uint256)"));
    bytes4 internal constant STAKING_CHECK_PARAMS = bytes4(
        keccak256(
            "checkParams((uint64,uint32,uint256,uint256,uint64,uint256,uint16,uint64,uint16,uint64,uint16,uint16,uint16,uint64,uint16))"
        )
    );

    /// @notice Votes (or changes the vote) while voting is open. Only accounts with stake vote: a
    ///         delegator (votingPowerOf > 0) or a validator operator with tokens.
    function vote(uint256 id, uint8 option) external {
        Proposal storage p = _proposal(id);
        if (option < OPTION_YES || option > OPTION_VETO) revert InvalidOption(option);
        if (p.status != STATUS_VOTING || block.number > p.votingEndBlock) revert VotingClosed(id, p.votingEndBlock);
        if (_votes[id][msg.sender] == 0) {
            IStakingForGovernance st = IStakingForGovernance(staking);
            if (st.votingPowerOf(msg.sender) == 0) {
                (, uint256 tokens,,,,,,) = st.getValidator(msg.sender);
                if (tokens == 0) revert NoVotingPower(msg.sender);
            }
            if (p.voters.length >= MAX_VOTERS) revert TooManyVoters(MAX_VOTERS);
            p.voters.push(msg.sender);
        }
        _votes[id][msg.sender] = option;
        emit Voted(id, msg.sender, option);
    }

    /// @notice Cosmos tally, with stake as it is when tallied: each voter's delegations count for
    ///         its option and are deducted from the validators they are delegated to; then each
    ///         validator whose operator voted adds its remaining tokens (delegators who did not vote
    ///         inherit). Resumable: one call does TALLY_BATCH steps (2 per voter) and emits
    ///         TallyProgress; the call that finishes decides (ProposalTallied). Send the calls of one
    ///         large tally in one block so no stake moves between them.
    function tally(uint256 id) external nonReentrant {
        Proposal storage p = _proposal(id);
        if (p.status != STATUS_VOTING) revert NotVoting(id, p.status);
        if (block.number <= p.votingEndBlock) revert VotingNotEnded(id, p.votingEndBlock);
        IStakingForGovernance st = IStakingForGovernance(staking);
        uint256 n = p.voters.length;
        uint256 cursor = _cursor[id];
        uint256 end = cursor + TALLY_BATCH;
        if (end > 2 * n) end = 2 * n;
        uint256[5] storage sums = _sums[id];
        for (; cursor < end && cursor < n; cursor++) {
            address voter = p.voters[cursor];
            uint8 option = _votes[id][voter];
            (address[] memory ops, uint256[] memory amounts) = st.delegationsOf(voter);
            for (uint256 j = 0; j < ops.length; j++) {
                sums[option] += amounts[j];
                if (_votes[id][ops[j]] != 0) _deductions[id][ops[j]] += amounts[j];
            }
        }
        for (; cursor < end; cursor++) {
            address voter = p.voters[cursor - n];
            (address cons, uint256 tokens,,,,,,) = st.getValidator(voter);
            if (cons == address(0)) continue;
            uint256 ded = _deductions[id][voter];
            if (tokens > ded) sums[_votes[id][voter]] += tokens - ded;
        }
        _cursor[id] = cursor;
        if (cursor < 2 * n) {
            emit TallyProgress(id, cursor, 2 * n);
            return;
        }
        p.yes = sums[OPTION_YES];
        p.abstain = sums[OPTION_ABSTAIN];
        p.no = sums[OPTION_NO];
        p.veto = sums[OPTION_VETO];
        _decide(id, p, st.totalBonded());
    }

    /// @notice How far a tally has gone: `done` of `total` steps (2 per voter).
    function tallyProgress(uint256 id) external view returns (uint256 done, uint256 total) {
        return (_cursor[id], 2 * _proposals[id].voters.length);
    }

    function _decide(uint256 id, Proposal storage p, uint256 bonded) internal {
        uint256 voted = p.yes + p.abstain + p.no + p.veto;
        GovParams storage g = _gov;
        bool quorum = voted != 0 && voted * BPS >= bonded * g.quorumBps;
        bool vetoed = voted != 0 && p.veto * BPS > voted * g.vetoBps;
        uint256 decisive = p.yes + p.no + p.veto;
        bool passed = quorum && !vetoed && decisive != 0 && p.yes * BPS > decisive * g.thresholdBps;
        uint256 deposit = p.deposit; // paid once: the status leaves Voting here
        if (passed) {
            p.status = STATUS_PASSED;
            p.executableAtBlock = uint64(block.number) + g.timelockBlocks;
            p.expiresAtBlock = p.executableAtBlock + g.votingPeriodBlocks;
        } else {
            p.status = STATUS_REJECTED;
        }
        p.depositBurned = vetoed || !quorum;
        emit ProposalTallied(id, p.status, p.yes, p.abstain, p.no, p.veto, p.depositBurned);
        if (deposit == 0) return;
        if (p.depositBurned) {
            burned += deposit;
            _pay(address(0), deposit);
            emit DepositBurned(id, deposit);
        } else {
            _pay(p.proposer, deposit);
            emit DepositRefunded(id, p.proposer, deposit);
        }
    }

    /// @notice Runs a passed proposal's actions in order, after its timelock and before it expires
    ///         (executableAtBlock + votingPeriodBlocks). A failing action reverts the whole
    ///         execution with ActionFailed: the proposal stays Passed and may be retried until it expires.
    function execute(uint256 id) external nonReentrant {
        Proposal storage p = _proposal(id);
        if (p.status != STATUS_PASSED) revert NotPassed(id, p.status);
        if (block.number < p.executableAtBlock) revert TimelockActive(id, p.executableAtBlock);
        if (block.number > p.expiresAtBlock) {
            p.status = STATUS_EXPIRED;
            emit ProposalExpired(id);
            return;
        }
        p.status = STATUS_EXECUTED;
        for (uint256 i = 0; i < p.actions.length; i++) {
            Action storage a = p.actions[i];
            (bool ok, bytes memory ret) = a.target.call{value: a.value}(a.data);
            if (!ok) revert ActionFailed(i, ret);
        }
        emit ProposalExecuted(id);
    }

    // ---- actions on Governance itself ----

    function setGovParams(GovParams calldata g) external onlySelf {
        _checkGov(g);
        _gov = g;
        emit GovParamsSet(g);
    }

    function setChainParams(ChainParams calldata c) external onlySelf {
        _checkChain(c);
        _chain = c;
        emit ChainParamsSet(c);
    }

    function scheduleUpgrade(string calldata name, uint64 height) external onlySelf {
        if (bytes(name).length == 0 || bytes(name).length > MAX_UPGRADE_NAME_BYTES) {
            revert UpgradeNameInvalid(bytes(name).length, MAX_UPGRADE_NAME_BYTES);
        }
        if (height <= block.number) revert UpgradeHeightNotInFuture(height, block.number);
        _upgrade = UpgradePlan(name, height);
        emit UpgradeScheduled(name, height);
    }

    function cancelUpgrade() external onlySelf {
        if (_upgrade.height == 0) revert NoUpgradeScheduled();
        emit UpgradeCancelled(_upgrade.name, _upgrade.height);
        delete _upgrade;
    }

    /// @dev The bounds of a governance parameter set (docs/consensus/governance.md "Parameter
    ///      bounds"), and on a running chain a deposit the bonded stake could pay.
    function _checkGov(GovParams memory g) internal view {
        _checkGovBounds(g);
        uint256 bonded = IStakingForGovernance(staking).totalBonded();
        if (g.minDeposit > bonded) revert InvalidParams("minDeposit must be <= Staking.totalBonded()");
    }

    function _checkGovBounds(GovParams memory g) internal pure {
        if (g.votingPeriodBlocks == 0 || g.votingPeriodBlocks > MAX_PERIOD_BLOCKS) {
            revert InvalidParams("votingPeriodBlocks must be in 1..31536000");
        }
        if (g.timelockBlocks > MAX_PERIOD_BLOCKS) revert InvalidParams("timelockBlocks must be <= 31536000");
        if (g.quorumBps > MAX_QUORUM_BPS) revert InvalidParams("quorumBps must be <= 6666 (2/3)");
        if (g.thresholdBps == 0 || g.thresholdBps > MAX_THRESHOLD_BPS) {
            revert InvalidParams("thresholdBps must be in 1..6666 (2/3)");
        }
        if (g.vetoBps < MIN_VETO_BPS || g.vetoBps > BPS) revert InvalidParams("vetoBps must be in 3334..10000");
    }

    function _checkChain(ChainParams memory c) internal pure {
        if (c.blockGasLimit < MIN_BLOCK_GAS_LIMIT || c.blockGasLimit > MAX_BLOCK_GAS_LIMIT) {
            revert InvalidParams("blockGasLimit must be in 5000000..500000000");
        }
        if (c.minBaseFee > MAX_MIN_BASE_FEE) {
            revert InvalidParams("minBaseFee must be <= 100 gwei: above it the proposal to undo it costs too much");
        }
        if (c.blockTimeMs == 0 || c.blockTimeMs > MAX_BLOCK_TIME_MS) {
            revert InvalidParams("blockTimeMs must be in 1..3600000");
        }
    }

    // ---- views ----

    function upgradePlan() external view returns (string memory name, uint64 height) {
        return (_upgrade.name, _upgrade.height);
    }

    function chainParams() external view returns (ChainParams memory) {
        return _chain;
    }

    function govParams() external view returns (GovParams memory) {
        return _gov;
    }

    function getProposal(uint256 id) external view returns (ProposalView memory v) {
        Proposal storage p = _proposal(id);
        v.id = id;
        v.proposer = p.proposer;
        v.deposit = p.deposit;
        v.status = p.status;
        v.submitBlock = p.submitBlock;
        v.votingEndBlock = p.votingEndBlock;
        v.executableAtBlock = p.executableAtBlock;
        v.expiresAtBlock = p.expiresAtBlock;
        v.yes = p.yes;
        v.abstain = p.abstain;
        v.no = p.no;
        v.veto = p.veto;
        v.voters = p.voters.length;
        v.depositBurned = p.depositBurned;
        v.title = p.title;
        v.description = p.description;
        v.actions = p.actions;
    }

    /// @notice A voter's option on a proposal (0: has not voted).
    function voteOf(uint256 id, address voter) external view returns (uint8) {
        return _votes[id][voter];
    }

    function _proposal(uint256 id) internal view returns (Proposal storage p) {
        p = _proposals[id];
        if (p.status == 0) revert UnknownProposal(id);
    }

    function _pay(address to, uint256 amount) internal {
        (bool ok,) = payable(to).call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
