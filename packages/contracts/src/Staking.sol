// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

// One file over ~600 lines on purpose: the compile script builds one source file per contract (no
// imports), and staking, rewards, slashing and the active set share the validator records.

/// @title VoteDigest
/// @notice The digest a Cairn BFT vote's signature covers, as packages/consensus/src/bft/signing.ts
///         `voteDigest` computes it: keccak256(RLP(["cairn-bft-v1", chainId, height, round, type,
///         blockHash])), integers as RLP's minimal big-endian bytes, a nil vote's hash as "".
library VoteDigest {
    /// @dev RLP of an unsigned integer: 0 → 0x80, < 0x80 → itself, else 0x80+len ‖ big-endian bytes.
    function encodeUint(uint256 x) internal pure returns (bytes memory) {
        if (x == 0) return hex"80";
        if (x < 0x80) return abi.encodePacked(uint8(x));
        bytes memory be = bigEndian(x);
        return abi.encodePacked(uint8(0x80 + be.length), be);
    }

    /// @dev The minimal big-endian bytes of x > 0.
    function bigEndian(uint256 x) internal pure returns (bytes memory out) {
        uint256 len;
        for (uint256 t = x; t != 0; t >>= 8) len++;
        out = new bytes(len);
        for (uint256 i = 0; i < len; i++) out[len - 1 - i] = bytes1(uint8(x >> (8 * i)));
    }

    function digest(uint256 chainId, uint64 height, uint32 round, uint8 voteType, bytes32 blockHash)
        internal
        pure
        returns (bytes32)
    {
        bytes memory payload = abi.encodePacked(
            hex"8c", "cairn-bft-v1", encodeUint(chainId), encodeUint(height), encodeUint(round), encodeUint(voteType)
        );
        payload = blockHash == bytes32(0) ? abi.encodePacked(payload, hex"80") : abi.encodePacked(payload, hex"a0", blockHash);
        uint256 n = payload.length;
        if (n < 56) return keccak256(abi.encodePacked(uint8(0xc0 + n), payload));
        // Long list: 0xf7+k ‖ the k big-endian bytes of the payload length.
        bytes memory header = bigEndian(n);
        return keccak256(abi.encodePacked(uint8(0xf7 + header.length), header, payload));
    }

    /// @dev The signer of a 65-byte r ‖ s ‖ v signature (v 27/28), or address(0).
    function recover(bytes32 d, bytes calldata sig) internal pure returns (address) {
        if (sig.length != 65) return address(0);
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v != 27 && v != 28) return address(0);
        return ecrecover(d, v, r, s);
    }
}

/// @title Staking
/// @notice Cairn's proof-of-stake system contract (genesis address 0x…1000): validators, delegations
///         in the native coin, unbonding, redelegation, rewards (commission + O(1) per-share
///         accumulator), double-sign and downtime slashing, jailing, and the active validator set the
///         engine reads at each epoch boundary. Modelled on Cosmos SDK x/staking, x/slashing and
///         x/distribution; see docs/consensus/staking.md.
/// @dev    Placed in genesis as runtime code (no constructor); `initialize` is called once by the
///         system address. Accounting invariant: address(this).balance == totalBonded +
///         totalUnbonding + rewardsOutstanding + commissionOutstanding + communityPool. Slashed and
///         burned coins are sent to address(0) and counted in `burned`.
contract Staking {
    address public constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant PREC = 1e18;
    uint256 internal constant MAX_POWER = 1 << 60;
    uint256 internal constant POWER_BITS = (1 << 192) - 1;
    /// @notice A delegator may hold delegations to at most this many validators (governance tallies them).
    uint256 public constant MAX_DELEGATIONS_PER_DELEGATOR = 32;
    /// @notice A delegator may have at most this many unbonding entries waiting at once.
    uint256 public constant MAX_UNBONDING_ENTRIES = 32;
    /// @notice At most this many validators compete for the active set (tombstoned ones leave the list).
    uint256 public constant MAX_CANDIDATES = 1024;
    uint256 public constant MAX_DESCRIPTION_BYTES = 280;
    uint8 public constant VOTE_PREVOTE = 1;
    uint8 public constant VOTE_PRECOMMIT = 2;
    uint8 public constant REASON_DOUBLE_SIGN = 1;
    uint8 public constant REASON_DOWNTIME = 2;
    /// @notice Jail reason: the operator's self-bond fell under its minimum.
    uint8 public constant REASON_SELF_BOND = 3;
    /// @notice The chain's consensus signature scheme (`signatureScheme`): 0 secp256k1, 1 hybrid
    ///         (secp256k1 ‖ ML-DSA-65), 2 ml-dsa-65 (docs/consensus/post-quantum.md).
    uint8 public constant SCHEME_SECP256K1 = 0;
    uint8 public constant SCHEME_HYBRID = 1;
    uint8 public constant SCHEME_ML_DSA_65 = 2;
    /// @notice An ML-DSA-65 public key's length (FIPS 204).
    uint256 public constant PQ_PUBLIC_KEY_BYTES = 1952;

    // ---- parameter bounds (docs/consensus/staking.md "Parameter bounds" derives each) ----
    /// @notice The most seats `maxValidators` may set: `reward` over that many signers and
    ///         `epochUpdate` over MAX_CANDIDATES candidates and that many members each use at most
    ///         half of the engine's 30M system-call gas (test/staking/system-call-gas.test.ts).
    uint32 public constant MAX_VALIDATORS = 200;
    /// @notice The most `issuancePerBlock` may mint (10^30 wei, 10^12 coins): 2^64 blocks of it
    ///         (< 2^164) times the reward arithmetic's factors (PREC × BPS, < 2^74) stay < 2^256.
    uint256 public constant MAX_ISSUANCE_PER_BLOCK = 1e30;
    /// @notice The longest `downtimeJailSeconds` (a year): block.timestamp + it stays far from 2^64.
    uint64 public constant MAX_JAIL_SECONDS = 365 days;
    /// @notice The longest block count a parameter added to block.number may hold (`unbondingBlocks`,
    ///         `epochLength`, `signedBlocksWindow`): 2^32, so number + it never nears 2^64.
    uint64 public constant MAX_PERIOD_BLOCKS = 1 << 32;
    /// @dev A candidate's stake as ranked for the active set saturates at this (~7.9e10 coins).
    uint256 internal constant RANK_TOKENS_MAX = (1 << 96) - 1;
    /// @notice The most changes one set update makes (joins, departures for a better-ranked
    ///         candidate, power moves, key swaps; removals of jailed members are never held back but
    ///         count against it): the rest waits for the next update, as Ethereum's churn limit. It
    ///         bounds the update's storage writes whatever the number of candidates.
    uint256 public constant MAX_SET_CHANGES = 32;
    /// @notice The most consensus key rotations of set members per block (each is a key swap in the
    ///         block's set update): more are refused with `TooManyRotations` until the next block.
    uint256 public constant MAX_ROTATIONS_PER_BLOCK = 16;

    struct Params {
        uint64 epochLength;
        uint32 maxValidators;
        uint256 minSelfBond;
        uint256 powerReduction;
        uint64 unbondingBlocks;
        uint256 issuancePerBlock;
        uint16 annualRateBps;
        uint64 blocksPerYear;
        uint16 communityTaxBps;
        uint64 signedBlocksWindow;
        uint16 minSignedPerWindowBps;
        uint16 slashFractionDoubleSignBps;
        uint16 slashFractionDowntimeBps;
        uint64 downtimeJailSeconds;
        uint16 maxPowerChangeBps;
    }

    struct Validator {
        address consensusAddr;
        uint16 commissionBps;
        uint16 maxCommissionBps;
        uint16 maxChangeBpsPerDay;
        bool exists;
        bool jailed;
        bool tombstoned;
        uint64 jailedUntil;
        uint64 lastCommissionChange;
        uint256 tokens;
        uint256 shares;
        uint256 minSelfBond;
        uint256 accRewardPerShare;
        uint256 commission;
        string description;
    }

    struct Delegation {
        uint256 shares;
        uint256 rewardDebt;
        uint256 owed;
    }

    struct Unbonding {
        address delegator;
        address operator;
        uint64 creationHeight;
        uint64 completion;
        uint256 balance;
    }

    struct Redelegation {
        address delegator;
        address dst;
        uint64 creationHeight;
        uint64 completion;
        uint256 sharesDst;
    }

    struct SigningInfo {
        uint64 seen;
        uint64 missed;
        uint64 window;
        uint64 generation;
    }

    Params internal _params;
    address public governance;
    bool public initialized;

    mapping(address => Validator) internal _validators;
    mapping(address => address) internal _operatorOf;
    address[] internal _candidates;
    mapping(address => uint256) internal _candidateIndex; // 1-based

    mapping(address => mapping(address => Delegation)) internal _delegations; // operator → delegator
    mapping(address => address[]) internal _delegatedTo;
    mapping(address => mapping(address => uint256)) internal _delegatedIndex; // 1-based

    mapping(uint256 => Unbonding) internal _unbondings;
    uint256 internal _nextUnbonding;
    mapping(address => uint256[]) internal _unbondingsOf;
    mapping(address => uint256[]) internal _unbondingQueue;
    mapping(address => uint256) internal _unbondingHead;

    mapping(uint256 => Redelegation) internal _redelegations;
    uint256 internal _nextRedelegation;
    mapping(address => uint256[]) internal _redelegationQueue;
    mapping(address => uint256) internal _redelegationHead;
    mapping(address => mapping(address => uint64)) internal _incomingRedelegationUntil;

    mapping(bytes32 => bool) public evidenceUsed;

    address[] internal _activeSet;
    mapping(address => uint256) internal _activePower;
    /// @notice Sum of the active set's powers.
    uint256 public activeTotalPower;
    /// @notice True when a validator of the active set was jailed since the last epoch update: the
    ///         engine may call `epochUpdate` before the next boundary to drop it sooner.
    bool public pendingSetChange;

    mapping(address => SigningInfo) internal _signing;
    mapping(bytes32 => uint256) internal _missedBits;

    uint256 internal _totalBonded;
    uint256 public totalUnbonding;
    uint256 public rewardsOutstanding;
    uint256 public commissionOutstanding;
    uint256 internal _communityPool;
    uint256 public burned;
    uint256 internal _lock;
    /// @dev Each consensus address's power in the engine's set over time: checkpoints
    ///      (first height << 192 | power), ascending by height; what a double-sign slash is sized by.
    mapping(address => uint256[]) internal _powerHistory;
    /// @dev Per operator: the block of its last consensus key rotation (0: never) and the address it
    ///      rotated from (which keeps mapping to it in `_operatorOf`: evidence against it still slashes).
    mapping(address => uint64) internal _lastRotation;
    mapping(address => address) internal _rotatedFrom;
    /// @notice The consensus signature scheme, fixed at genesis (`initializePq`; 0 secp256k1 when
    ///         never called). Under a PQ scheme every validator registers its ML-DSA-65 key.
    uint8 public signatureScheme;
    /// @dev Consensus address → its ML-DSA-65 public key (1,952 bytes, 61 slots; empty under
    ///      secp256k1). Keyed by consensus address, never deleted: the key of any address that was
    ///      ever in the engine's set stays readable (light clients, evidence at old heights).
    mapping(address => bytes) internal _pqKeyOf;
    /// @dev Per candidate, at its index in `_candidates`: 0 when it cannot be in the set (jailed,
    ///      tombstoned, no tokens, self-bond under its minimum), else min(tokens, 2^96−1) << 160 |
    ///      consensus address. Kept current by every change to those fields, so `epochUpdate` reads
    ///      one slot per candidate (docs/consensus/staking.md "Bounded work").
    uint256[] internal _candidateRank;
    /// @dev The block of the last member key rotation and how many there were in it.
    uint64 internal _rotationsBlock;
    uint32 internal _rotationsInBlock;

    // ---- events ----
    event Initialized(address governance, uint256 validators, uint256 totalBonded);
    event ValidatorCreated(
        address indexed operator,
        address indexed consensusAddr,
        uint256 selfBond,
        uint16 commissionBps,
        uint16 maxCommissionBps,
        uint16 maxChangeBpsPerDay,
        uint256 minSelfBond
    );
    event ValidatorEdited(address indexed operator, uint16 commissionBps, string description);
    event Delegated(address indexed delegator, address indexed operator, uint256 amount, uint256 shares);
    event Undelegated(
        address indexed delegator, address indexed operator, uint256 amount, uint256 entryId, uint64 completion
    );
    event Redelegated(
        address indexed delegator, address indexed src, address indexed dst, uint256 amount, uint64 completion
    );
    event UnbondedWithdrawn(address indexed delegator, uint256 amount);
    event RewardsWithdrawn(address indexed delegator, address indexed operator, uint256 amount);
    event CommissionWithdrawn(address indexed operator, uint256 amount);
    event Rewarded(uint256 total, uint256 communityTax, uint256 distributed);
    event Slashed(address indexed consensusAddr, uint256 amount, uint8 reason);
    event Jailed(address indexed consensusAddr, uint64 until, uint8 reason);
    event Unjailed(address indexed consensusAddr);
    event ValidatorTombstoned(address indexed consensusAddr);
    event EvidenceHandled(bytes32 indexed key, address indexed consensusAddr, uint64 height, uint32 round, uint8 voteType);
    event ActiveSetUpdated(address[] consensusAddrs, uint256[] powers, uint256 totalPower);
    event ParamsSet(Params p);
    /// @notice A consensus key rotation: the set update of this block swaps the keys at equal power,
    ///         in the engine's set from `effectiveHeight` (this block + 2) when the validator is a member.
    event ConsensusKeyRotated(
        address indexed operator, address indexed oldConsensusAddr, address indexed newConsensusAddr, uint64 effectiveHeight
    );
    event CommunityPoolSpent(address indexed to, uint256 amount);
    event PqPublicKeySet(address indexed consensusAddr, bytes pqPublicKey);

    // ---- errors ----
    error NotSystem();
    error NotGovernance();
    error AlreadyInitialized();
    error NotInitialized();
    error Reentrancy();
    error InvalidParams(string reason);
    error LengthMismatch();
    error WrongValue(uint256 sent, uint256 expected);
    error ZeroAddress();
    error ZeroAmount();
    error CommissionTooHigh(uint16 rate, uint16 max);
    error CommissionChangeTooLarge(uint16 change, uint16 maxPerDay);
    error CommissionChangeTooSoon(uint64 nextAllowedAt);
    error SelfBondTooLow(uint256 bond, uint256 min);
    error DescriptionTooLong(uint256 length, uint256 max);
    error ValidatorExists(address operator);
    error UnknownValidator(address operator);
    error ConsensusAddressTaken(address consensusAddr);
    error TooManyCandidates(uint256 max);
    error TooManyDelegations(uint256 max);
    error TooManyUnbondingEntries(uint256 max);
    error InsufficientDelegation(uint256 requested, uint256 available);
    error SameValidator();
    error TransitiveRedelegation(address operator, uint64 until);
    error ValidatorFullySlashed(address operator);
    error NothingToWithdraw();
    error NotJailed();
    error JailPeriodActive(uint64 until);
    error Tombstoned();
    error EvidenceTooOld(uint64 height, uint256 current, uint64 unbondingBlocks);
    error EvidenceAlreadyUsed(bytes32 key);
    error InvalidEvidence(string reason);
    error InsufficientCommunityPool(uint256 requested, uint256 available);
    error TransferFailed(address to, uint256 amount);
    error InvalidPossessionProof();
    error RotationPending(address oldConsensusAddr);
    error RotationTooSoon(uint64 nextAllowedAt);
    /// @notice MAX_ROTATIONS_PER_BLOCK set members already rotated their keys in this block: retry in the next.
    error TooManyRotations(uint256 max);
    /// @notice An ML-DSA-65 key of the wrong length for the chain's scheme (`expected` 1,952 under
    ///         a PQ scheme, 0 under secp256k1: no key).
    error InvalidPqPublicKey(uint256 length, uint256 expected);
    /// @notice Under ml-dsa-65 a validator's consensus address must be keccak256(pqPublicKey)[12:].
    error PqAddressMismatch(address consensusAddr, address keyAddr);
    /// @notice Not available under a post-quantum scheme (`submitDoubleSign`: ecrecover checks only
    ///         the forgeable secp256k1 part; the two-argument `rotateConsensusKey`: it carries no
    ///         ML-DSA key, the three-argument form does).
    error RefusedUnderPqScheme(uint8 scheme);
    /// @notice Only under a post-quantum scheme (the three-argument `rotateConsensusKey`: a
    ///         secp256k1 chain registers no ML-DSA key).
    error RefusedUnderSecp256k1Scheme();

    modifier onlySystem() {
        if (msg.sender != SYSTEM_ADDRESS) revert NotSystem();
        _;
    }

    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance();
        _;
    }

    modifier whenInitialized() {
        if (!initialized) revert NotInitialized();
        _;
    }

    modifier nonReentrant() {
        if (_lock == 1) revert Reentrancy();
        _lock = 1;
        _;
        _lock = 0;
    }

    // =====================================================================================
    // genesis
    // =====================================================================================

    function initialize(
        Params calldata p,
        address governance_,
        address[] calldata operators,
        address[] calldata consensusAddrs,
        uint256[] calldata selfBonds,
        uint16[] calldata commissionBps
    ) external payable onlySystem {
        if (initialized) revert AlreadyInitialized();
        uint256 n = operators.length;
        if (consensusAddrs.length != n || selfBonds.length != n || commissionBps.length != n) revert LengthMismatch();
        _checkParams(p);
        if (governance_ == address(0)) revert ZeroAddress();
        _params = p;
        governance = governance_;
        initialized = true;
        uint256 sum;
        for (uint256 i = 0; i < n; i++) {
            _genesisValidator(operators[i], consensusAddrs[i], selfBonds[i], commissionBps[i]);
            sum += selfBonds[i];
        }
        if (msg.value != sum) revert WrongValue(msg.value, sum);
        // The genesis validators are the active set from block 0: top maxValidators, no change bound.
        (address[] memory addrs, uint256[] memory powers) = _targetSet(_params);
        _storeActiveSet(addrs, powers, 0);
        emit Initialized(governance_, n, sum);
    }

    function _genesisValidator(address operator, address consensusAddr, uint256 selfBond, uint16 commissionBps)
        internal
    {
        uint256 min = _params.minSelfBond == 0 ? 1 : _params.minSelfBond;
        if (selfBond < min) revert SelfBondTooLow(selfBond, min);
        if (commissionBps > BPS) revert CommissionTooHigh(commissionBps, uint16(BPS));
        _create(operator, consensusAddr, commissionBps, uint16(BPS), uint16(BPS), min, "");
        _delegate(operator, operator, selfBond);
        emit ValidatorCreated(operator, consensusAddr, selfBond, commissionBps, uint16(BPS), uint16(BPS), min);
    }

    /// @notice Sets the chain's consensus signature scheme and the genesis validators' ML-DSA-65
    ///         keys (by consensus address, each one a genesis validator's). Called once by the system
    ///         address right after `initialize`, at genesis, only for a PQ scheme.
    function initializePq(uint8 scheme, address[] calldata consensusAddrs, bytes[] calldata pqKeys)
        external
        onlySystem
        whenInitialized
    {
        if (signatureScheme != SCHEME_SECP256K1 || block.number != 0) revert AlreadyInitialized();
        if (scheme != SCHEME_HYBRID && scheme != SCHEME_ML_DSA_65) revert InvalidParams("scheme");
        // One key for each genesis validator (all are candidates; not all need be active).
        if (pqKeys.length != consensusAddrs.length || consensusAddrs.length != _candidates.length) {
            revert LengthMismatch();
        }
        signatureScheme = scheme;
        for (uint256 i = 0; i < consensusAddrs.length; i++) {
            address a = consensusAddrs[i];
            if (_operatorOf[a] == address(0) || _pqKeyOf[a].length != 0) revert UnknownValidator(a);
            _setPqKey(a, pqKeys[i]);
        }
    }

    /// @dev Checks `key` against the scheme (and under ml-dsa-65 the address against the key) and
    ///      stores it for `consensusAddr` (under secp256k1 only an empty key passes; nothing is stored).
    function _setPqKey(address consensusAddr, bytes calldata key) internal {
        uint8 scheme = signatureScheme;
        uint256 expected = scheme == SCHEME_SECP256K1 ? 0 : PQ_PUBLIC_KEY_BYTES;
        if (key.length != expected) revert InvalidPqPublicKey(key.length, expected);
        if (expected == 0) return;
        if (scheme == SCHEME_ML_DSA_65) {
            address keyAddr = address(uint160(uint256(keccak256(key))));
            if (keyAddr != consensusAddr) revert PqAddressMismatch(consensusAddr, keyAddr);
        }
        _pqKeyOf[consensusAddr] = key;
        emit PqPublicKeySet(consensusAddr, key);
    }

    /// @notice The ML-DSA-65 public keys registered for `consensusAddrs` (empty bytes for none):
    ///         what the engine puts in the change records of validators joining its set.
    function pqPublicKeys(address[] calldata consensusAddrs) external view returns (bytes[] memory keys) {
        keys = new bytes[](consensusAddrs.length);
        for (uint256 i = 0; i < consensusAddrs.length; i++) keys[i] = _pqKeyOf[consensusAddrs[i]];
    }

    // =====================================================================================
    // validators
    // =====================================================================================

    /// @notice Registers the caller as a validator (secp256k1 chains: no ML-DSA key).
    function createValidator(
        address consensusAddr,
        uint16 commissionBps,
        uint16 maxCommissionBps,
        uint16 maxChangeBpsPerDay,
        uint256 minSelfBond,
        string calldata description
    ) external payable whenInitialized nonReentrant {
        _createValidator(consensusAddr, commissionBps, maxCommissionBps, maxChangeBpsPerDay, minSelfBond, description);
        _setPqKey(consensusAddr, msg.data[0:0]);
    }

    /// @notice Registers the caller as a validator with its ML-DSA-65 consensus key (1,952 bytes;
    ///         under ml-dsa-65 `consensusAddr` must be keccak256(pqPublicKey)[12:]). Required on a
    ///         hybrid or ml-dsa-65 chain, refused (`InvalidPqPublicKey(n, 0)`) on a secp256k1 one.
    function createValidator(
        address consensusAddr,
        uint16 commissionBps,
        uint16 maxCommissionBps,
        uint16 maxChangeBpsPerDay,
        uint256 minSelfBond,
        string calldata description,
        bytes calldata pqPublicKey
    ) external payable whenInitialized nonReentrant {
        _createValidator(consensusAddr, commissionBps, maxCommissionBps, maxChangeBpsPerDay, minSelfBond, description);
        _setPqKey(consensusAddr, pqPublicKey);
    }

    function _createValidator(
        address consensusAddr,
        uint16 commissionBps,
        uint16 maxCommissionBps,
        uint16 maxChangeBpsPerDay,
        uint256 minSelfBond,
        string calldata description
    ) internal {
        if (maxCommissionBps > BPS) revert CommissionTooHigh(maxCommissionBps, uint16(BPS));
        if (commissionBps > maxCommissionBps) revert CommissionTooHigh(commissionBps, maxCommissionBps);
        if (maxChangeBpsPerDay > maxCommissionBps) revert CommissionChangeTooLarge(maxChangeBpsPerDay, maxCommissionBps);
        uint256 floor = minSelfBond > _params.minSelfBond ? minSelfBond : _params.minSelfBond;
        if (floor == 0) floor = 1;
        if (msg.value < floor) revert SelfBondTooLow(msg.value, floor);
        _create(msg.sender, consensusAddr, commissionBps, maxCommissionBps, maxChangeBpsPerDay, floor, description);
        _delegate(msg.sender, msg.sender, msg.value);
        emit ValidatorCreated(
            msg.sender, consensusAddr, msg.value, commissionBps, maxCommissionBps, maxChangeBpsPerDay, floor
        );
    }

    function _create(
        address operator,
        address consensusAddr,
        uint16 commissionBps,
        uint16 maxCommissionBps,
        uint16 maxChangeBpsPerDay,
        uint256 minSelfBond,
        string memory description
    ) internal {
        if (operator == address(0) || consensusAddr == address(0)) revert ZeroAddress();
        if (bytes(description).length > MAX_DESCRIPTION_BYTES) {
            revert DescriptionTooLong(bytes(description).length, MAX_DESCRIPTION_BYTES);
        }
        address holder = _operatorOf[consensusAddr];
        if (holder != address(0) && holder != operator) revert ConsensusAddressTaken(consensusAddr);
        // A key that was in the engine's set and was freed by a re-registration stays its old
        // holder's: evidence at its old heights must not slash someone else.
        if (holder == address(0) && _powerHistory[consensusAddr].length != 0) revert ConsensusAddressTaken(consensusAddr);
        Validator storage v = _validators[operator];
        if (v.exists) {
            // Re-registration: only an emptied, non-tombstoned record whose jail time is over.
            if (v.tombstoned) revert Tombstoned();
            if (v.shares != 0 || v.tokens != 0) revert ValidatorExists(operator);
            if (v.jailed && block.timestamp < v.jailedUntil) revert JailPeriodActive(v.jailedUntil);
            delete _operatorOf[v.consensusAddr];
        }
        if (_candidateIndex[operator] == 0) {
            if (_candidates.length >= MAX_CANDIDATES) revert TooManyCandidates(MAX_CANDIDATES);
            _candidates.push(operator);
            _candidateRank.push(0);
            _candidateIndex[operator] = _candidates.length;
        }
        _operatorOf[consensusAddr] = operator;
        v.consensusAddr = consensusAddr;
        v.commissionBps = commissionBps;
        v.maxCommissionBps = maxCommissionBps;
        v.maxChangeBpsPerDay = maxChangeBpsPerDay;
        v.exists = true;
        v.jailed = false;
        v.jailedUntil = 0;
        v.lastCommissionChange = uint64(block.timestamp);
        v.minSelfBond = minSelfBond;
        v.description = description;
        _resetSigning(operator);
        _syncRank(operator);
    }

    function editValidator(uint16 commissionBps, string calldata description) external whenInitialized {
        Validator storage v = _validator(msg.sender);
        if (bytes(description).length > MAX_DESCRIPTION_BYTES) {
            revert DescriptionTooLong(bytes(description).length, MAX_DESCRIPTION_BYTES);
        }
        if (commissionBps != v.commissionBps) {
            if (commissionBps > v.maxCommissionBps) revert CommissionTooHigh(commissionBps, v.maxCommissionBps);
            uint16 change =
                commissionBps > v.commissionBps ? commissionBps - v.commissionBps : v.commissionBps - commissionBps;
            if (change > v.maxChangeBpsPerDay) revert CommissionChangeTooLarge(change, v.maxChangeBpsPerDay);
            uint64 next = v.lastCommissionChange + 1 days;
            if (block.timestamp < next) revert CommissionChangeTooSoon(next);
            v.commissionBps = commissionBps;
            v.lastCommissionChange = uint64(block.timestamp);
        }
        v.description = description;
        emit ValidatorEdited(msg.sender, commissionBps, description);
    }

    /// @notice The digest a consensus key rotation's possession proof signs (65 bytes r ‖ s ‖ v by
    ///         the new key, no further prefix): keccak256(0x19 ‖ "cairn-consensus-key-rotation-v1" ‖
    ///         chainId ‖ this contract ‖ operator ‖ new address), packed. The 0x19 first byte keeps it
    ///         apart from a vote digest (an RLP list) and from any transaction.
    function rotationDigest(address operator, address newConsensusAddr) public view returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                hex"19", "cairn-consensus-key-rotation-v1", block.chainid, address(this), operator, newConsensusAddr
            )
        );
    }

    /// @notice Rotates the caller's consensus key to `newConsensusAddr` (never used before), proving
    ///         possession with `proof` (see `rotationDigest`). The old address keeps mapping to the
    ///         operator (its evidence still slashes); a member's set update swaps the two at equal
    ///         power in this block (not bounded by maxPowerChangeBps), in the engine's set from this
    ///         block + 2. One rotation per `unbondingBlocks`, and none while one is still pending.
    ///         Secp256k1 chains only: a hybrid or ml-dsa-65 chain uses the three-argument form.
    function rotateConsensusKey(address newConsensusAddr, bytes calldata proof) external whenInitialized nonReentrant {
        if (signatureScheme != SCHEME_SECP256K1) revert RefusedUnderPqScheme(signatureScheme);
        Validator storage v = _rotationTarget(newConsensusAddr);
        if (VoteDigest.recover(rotationDigest(msg.sender, newConsensusAddr), proof) != newConsensusAddr) {
            revert InvalidPossessionProof();
        }
        _rotationDue();
        _rotate(v, newConsensusAddr);
    }

    /// @notice The rotation of a hybrid or ml-dsa-65 chain: as the two-argument form, and the new
    ///         key's ML-DSA-65 public key (1,952 bytes), stored for `newConsensusAddr` (`pqPublicKeys`,
    ///         `PqPublicKeySet`) so the set update carries it. Under hybrid `proof` is the secp256k1
    ///         possession proof of the new address (`rotationDigest`); under ml-dsa-65 it is empty
    ///         and `newConsensusAddr` must be keccak256(pqPublicKey)[12:] (`PqAddressMismatch`). No
    ///         ML-DSA possession proof (the EVM cannot verify one, and none is needed: ML-DSA
    ///         signatures are never aggregated, so a copied public key, which cannot sign, gains
    ///         nothing; an address already taken is refused). Refused on a secp256k1 chain.
    function rotateConsensusKey(address newConsensusAddr, bytes calldata proof, bytes calldata pqPublicKey)
        external
        whenInitialized
        nonReentrant
    {
        uint8 scheme = signatureScheme;
        if (scheme == SCHEME_SECP256K1) revert RefusedUnderSecp256k1Scheme();
        Validator storage v = _rotationTarget(newConsensusAddr);
        if (scheme == SCHEME_HYBRID) {
            if (VoteDigest.recover(rotationDigest(msg.sender, newConsensusAddr), proof) != newConsensusAddr) {
                revert InvalidPossessionProof();
            }
        } else if (proof.length != 0) {
            revert InvalidPossessionProof();
        }
        _rotationDue();
        _setPqKey(newConsensusAddr, pqPublicKey);
        _rotate(v, newConsensusAddr);
    }

    /// @dev The caller's record, if it may rotate to `newConsensusAddr`: not tombstoned, and the
    ///      address neither zero nor ever used (registered, or in the engine's set at any height).
    function _rotationTarget(address newConsensusAddr) internal view returns (Validator storage v) {
        v = _validator(msg.sender);
        if (v.tombstoned) revert Tombstoned();
        if (newConsensusAddr == address(0)) revert ZeroAddress();
        if (_operatorOf[newConsensusAddr] != address(0) || _powerHistory[newConsensusAddr].length != 0) {
            revert ConsensusAddressTaken(newConsensusAddr);
        }
    }

    /// @dev The caller has no rotation pending and its last one is `unbondingBlocks` old.
    function _rotationDue() internal view {
        address prev = _rotatedFrom[msg.sender];
        if (prev != address(0) && _activePower[prev] != 0) revert RotationPending(prev);
        uint64 last = _lastRotation[msg.sender];
        if (last != 0 && block.number < uint256(last) + _params.unbondingBlocks) {
            revert RotationTooSoon(last + _params.unbondingBlocks);
        }
    }

    function _rotate(Validator storage v, address newConsensusAddr) internal {
        address old = v.consensusAddr;
        _operatorOf[newConsensusAddr] = msg.sender;
        v.consensusAddr = newConsensusAddr;
        _rotatedFrom[msg.sender] = old;
        _lastRotation[msg.sender] = uint64(block.number);
        _syncRank(msg.sender);
        // A member: the engine runs the set update in this block (out of the epoch if need be).
        if (_activePower[old] != 0) {
            if (_rotationsBlock != block.number) {
                _rotationsBlock = uint64(block.number);
                _rotationsInBlock = 0;
            }
            if (_rotationsInBlock >= MAX_ROTATIONS_PER_BLOCK) revert TooManyRotations(MAX_ROTATIONS_PER_BLOCK);
            _rotationsInBlock++;
            pendingSetChange = true;
        }
        emit ConsensusKeyRotated(msg.sender, old, newConsensusAddr, uint64(block.number) + 2);
    }

    /// @notice A validator's key rotation state: the address it last rotated from, the block, and
    ///         whether the set update swapping them is still to run.
    function rotationOf(address operator) external view returns (address rotatedFrom, uint64 at, bool pending) {
        rotatedFrom = _rotatedFrom[operator];
        at = _lastRotation[operator];
        pending = rotatedFrom != address(0) && _activePower[rotatedFrom] != 0;
    }

    function unjail() external whenInitialized {
        Validator storage v = _validator(msg.sender);
        if (v.tombstoned) revert Tombstoned();
        if (!v.jailed) revert NotJailed();
        if (block.timestamp < v.jailedUntil) revert JailPeriodActive(v.jailedUntil);
        uint256 self = _tokensOf(msg.sender, msg.sender);
        if (self < v.minSelfBond) revert SelfBondTooLow(self, v.minSelfBond);
        v.jailed = false;
        _resetSigning(msg.sender);
        _syncRank(msg.sender);
        emit Unjailed(v.consensusAddr);
    }

    // =====================================================================================
    // delegations
    // =====================================================================================

    function delegate(address operator) external payable whenInitialized nonReentrant {
        if (msg.value == 0) revert ZeroAmount();
        Validator storage v = _validator(operator);
        if (v.tombstoned) revert Tombstoned();
        _delegate(msg.sender, operator, msg.value);
    }

    function undelegate(address operator, uint256 amount) external whenInitialized nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Validator storage v = _validator(operator);
        if (_unbondingsOf[msg.sender].length >= MAX_UNBONDING_ENTRIES) {
            revert TooManyUnbondingEntries(MAX_UNBONDING_ENTRIES);
        }
        uint256 tokens = _unbond(msg.sender, operator, amount);
        uint64 completion = uint64(block.number) + _params.unbondingBlocks;
        uint256 id = ++_nextUnbonding;
        _unbondings[id] = Unbonding(msg.sender, operator, uint64(block.number), completion, tokens);
        _unbondingsOf[msg.sender].push(id);
        _unbondingQueue[operator].push(id);
        totalUnbonding += tokens;
        _pruneUnbondingQueue(operator, 3);
        emit Undelegated(msg.sender, operator, tokens, id, completion);
        _checkSelfBond(operator, v, msg.sender);
    }

    function redelegate(address srcOperator, address dstOperator, uint256 amount)
        external
        whenInitialized
        nonReentrant
    {
        if (amount == 0) revert ZeroAmount();
        if (srcOperator == dstOperator) revert SameValidator();
        Validator storage src = _validator(srcOperator);
        Validator storage dst = _validator(dstOperator);
        if (dst.tombstoned) revert Tombstoned();
        uint64 until = _incomingRedelegationUntil[msg.sender][srcOperator];
        if (block.number < until) revert TransitiveRedelegation(srcOperator, until);
        uint256 tokens = _unbond(msg.sender, srcOperator, amount); // _delegate adds it back to _totalBonded
        uint256 newShares = _delegate(msg.sender, dstOperator, tokens);
        uint64 completion = uint64(block.number) + _params.unbondingBlocks;
        uint256 id = ++_nextRedelegation;
        _redelegations[id] = Redelegation(msg.sender, dstOperator, uint64(block.number), completion, newShares);
        _redelegationQueue[srcOperator].push(id);
        if (completion > _incomingRedelegationUntil[msg.sender][dstOperator]) {
            _incomingRedelegationUntil[msg.sender][dstOperator] = completion;
        }
        _pruneRedelegationQueue(srcOperator, 3);
        emit Redelegated(msg.sender, srcOperator, dstOperator, tokens, completion);
        _checkSelfBond(srcOperator, src, msg.sender);
    }

    function withdrawUnbonded() external nonReentrant returns (uint256 total) {
        uint256[] storage ids = _unbondingsOf[msg.sender];
        uint256 i = 0;
        while (i < ids.length) {
            Unbonding storage e = _unbondings[ids[i]];
            if (e.completion <= block.number) {
                total += e.balance;
                delete _unbondings[ids[i]];
                ids[i] = ids[ids.length - 1];
                ids.pop();
            } else {
                i++;
            }
        }
        if (total == 0) revert NothingToWithdraw();
        totalUnbonding -= total;
        _pay(msg.sender, total);
        emit UnbondedWithdrawn(msg.sender, total);
    }

    function withdrawRewards(address operator) external nonReentrant returns (uint256 amount) {
        _settle(operator, msg.sender);
        Delegation storage d = _delegations[operator][msg.sender];
        amount = d.owed;
        if (amount == 0) revert NothingToWithdraw();
        d.owed = 0;
        rewardsOutstanding -= amount;
        _pay(msg.sender, amount);
        emit RewardsWithdrawn(msg.sender, operator, amount);
    }

    function withdrawCommission() external nonReentrant returns (uint256 amount) {
        Validator storage v = _validator(msg.sender);
        amount = v.commission;
        if (amount == 0) revert NothingToWithdraw();
        v.commission = 0;
        commissionOutstanding -= amount;
        _pay(msg.sender, amount);
        emit CommissionWithdrawn(msg.sender, amount);
    }

    // ---- share accounting ----

    /// @dev Bonds `amount` tokens (already received) from `delegator` to `operator`; returns the shares minted.
    function _delegate(address delegator, address operator, uint256 amount) internal returns (uint256 newShares) {
        Validator storage v = _validators[operator];
        if (v.shares == 0) {
            // Empty validator (no tokens without shares, see _removeShares): 1 share per token.
            newShares = amount;
            if (newShares == 0) revert ZeroAmount();
        } else {
            if (v.tokens == 0) revert ValidatorFullySlashed(operator);
            newShares = amount * v.shares / v.tokens;
            if (newShares == 0) revert ZeroAmount();
        }
        _settle(operator, delegator);
        Delegation storage d = _delegations[operator][delegator];
        if (d.shares == 0) _trackDelegation(delegator, operator);
        d.shares += newShares;
        d.rewardDebt = _mulDiv(d.shares, v.accRewardPerShare, PREC);
        v.shares += newShares;
        v.tokens += amount;
        _totalBonded += amount;
        _syncRank(operator);
        emit Delegated(delegator, operator, amount, newShares);
    }

    /// @dev Removes about `amount` tokens of `delegator`'s delegation to `operator`; returns the tokens removed.
    function _unbond(address delegator, address operator, uint256 amount) internal returns (uint256 tokens) {
        Validator storage v = _validators[operator];
        Delegation storage d = _delegations[operator][delegator];
        uint256 available = v.shares == 0 ? 0 : _mulDiv(d.shares, v.tokens, v.shares);
        if (amount > available) revert InsufficientDelegation(amount, available);
        uint256 shares = amount == available ? d.shares : _ceilDiv(amount * v.shares, v.tokens);
        if (shares > d.shares) shares = d.shares;
        tokens = _removeShares(operator, delegator, shares);
        _totalBonded -= tokens;
    }

    /// @dev Burns `shares` of a delegation and takes their tokens off the validator (not off _totalBonded).
    function _removeShares(address operator, address delegator, uint256 shares) internal returns (uint256 tokens) {
        Validator storage v = _validators[operator];
        _settle(operator, delegator);
        Delegation storage d = _delegations[operator][delegator];
        tokens = _mulDiv(shares, v.tokens, v.shares);
        d.shares -= shares;
        d.rewardDebt = _mulDiv(d.shares, v.accRewardPerShare, PREC);
        v.shares -= shares;
        v.tokens -= tokens;
        if (v.shares == 0 && v.tokens != 0) {
            // Last shares out: rounding leftovers go with them (no tokens without owners).
            tokens += v.tokens;
            v.tokens = 0;
        }
        if (d.shares == 0) _untrackDelegation(delegator, operator);
        _syncRank(operator);
    }

    /// @dev Moves a delegation's accrued rewards into its `owed` balance.
    function _settle(address operator, address delegator) internal {
        Delegation storage d = _delegations[operator][delegator];
        uint256 acc = _mulDiv(d.shares, _validators[operator].accRewardPerShare, PREC);
        if (acc > d.rewardDebt) d.owed += acc - d.rewardDebt;
        d.rewardDebt = acc;
    }

    function _trackDelegation(address delegator, address operator) internal {
        if (_delegatedIndex[delegator][operator] != 0) return;
        address[] storage list = _delegatedTo[delegator];
        if (list.length >= MAX_DELEGATIONS_PER_DELEGATOR) revert TooManyDelegations(MAX_DELEGATIONS_PER_DELEGATOR);
        list.push(operator);
        _delegatedIndex[delegator][operator] = list.length;
    }

    function _untrackDelegation(address delegator, address operator) internal {
        uint256 idx = _delegatedIndex[delegator][operator];
        if (idx == 0) return;
        address[] storage list = _delegatedTo[delegator];
        address last = list[list.length - 1];
        list[idx - 1] = last;
        _delegatedIndex[delegator][last] = idx;
        list.pop();
        delete _delegatedIndex[delegator][operator];
    }

    /// @dev Cosmos: a self-undelegation that leaves the self-bond under the validator's minimum jails it.
    function _checkSelfBond(address operator, Validator storage v, address delegator) internal {
        if (delegator != operator || v.jailed) return;
        if (_tokensOf(operator, operator) < v.minSelfBond) {
            _jail(v, uint64(block.timestamp), REASON_SELF_BOND);
        }
    }

    function _pruneUnbondingQueue(address operator, uint256 maxSteps) internal {
        uint256[] storage q = _unbondingQueue[operator];
        uint256 head = _unbondingHead[operator];
        for (uint256 s = 0; s < maxSteps && head < q.length; s++) {
            Unbonding storage e = _unbondings[q[head]];
            if (e.balance != 0 && e.completion > block.number) break;
            delete q[head];
            head++;
        }
        _unbondingHead[operator] = head;
    }

    function _pruneRedelegationQueue(address operator, uint256 maxSteps) internal {
        uint256[] storage q = _redelegationQueue[operator];
        uint256 head = _redelegationHead[operator];
        for (uint256 s = 0; s < maxSteps && head < q.length; s++) {
            if (_redelegations[q[head]].completion > block.number) break;
            delete _redelegations[q[head]];
            delete q[head];
            head++;
        }
        _redelegationHead[operator] = head;
    }

    // =====================================================================================
    // rewards and downtime (system)
    // =====================================================================================

    /// @notice What this block mints: `issuancePerBlock`, or totalBonded × annualRateBps / 10^4 /
    ///         blocksPerYear; at most MAX_ISSUANCE_PER_BLOCK either way.
    function issuance() public view returns (uint256 amount) {
        Params storage p = _params;
        if (p.annualRateBps == 0) amount = p.issuancePerBlock;
        else if (p.blocksPerYear != 0) amount = _bps(_totalBonded, p.annualRateBps) / p.blocksPerYear;
        if (amount > MAX_ISSUANCE_PER_BLOCK) amount = MAX_ISSUANCE_PER_BLOCK;
    }

    function reward(address[] calldata signed, address[] calldata missed) external payable onlySystem whenInitialized {
        uint256 total = msg.value;
        uint256 tax = _bps(total, _params.communityTaxBps);
        uint256 rest = total - tax;
        uint256 signedPower;
        for (uint256 i = 0; i < signed.length; i++) {
            address op = _operatorOf[signed[i]];
            if (op != address(0) && !_validators[op].jailed) signedPower += _signerPower(signed[i], op);
        }
        uint256 distributed;
        if (signedPower != 0 && rest != 0) {
            for (uint256 i = 0; i < signed.length; i++) {
                address op = _operatorOf[signed[i]];
                if (op == address(0)) continue;
                Validator storage v = _validators[op];
                uint256 pw = _signerPower(signed[i], op);
                if (v.jailed || pw == 0) continue;
                distributed += _rewardValidator(v, _mulDiv(rest, pw, signedPower));
            }
        }
        _communityPool += total - distributed;
        emit Rewarded(total, tax, distributed);
        for (uint256 i = 0; i < signed.length; i++) _recordSignature(signed[i], false);
        for (uint256 i = 0; i < missed.length; i++) _recordSignature(missed[i], true);
    }

    /// @dev Credits one validator's share: commission first, the rest per share. Returns what was credited.
    function _rewardValidator(Validator storage v, uint256 amount) internal returns (uint256) {
        if (amount == 0) return 0;
        uint256 commission = _bps(amount, v.commissionBps);
        uint256 toDelegators = amount - commission;
        uint256 credited;
        if (v.shares != 0 && toDelegators != 0) {
            // Saturating: an increment the accumulator cannot hold credits nothing per share (all
            // to commission), so the accounting stays exact and the system call never reverts.
            uint256 inc = _mulDiv(toDelegators, PREC, v.shares);
            if (inc > type(uint256).max - v.accRewardPerShare) inc = 0;
            v.accRewardPerShare += inc;
            credited = _mulDiv(inc, v.shares, PREC);
        }
        commission += toDelegators - credited; // rounding dust goes to the operator, not lost
        v.commission += commission;
        commissionOutstanding += commission;
        rewardsOutstanding += credited;
        return amount;
    }

    /// @dev The active power behind a signer of a certificate: its own, or, for the key a validator
    ///      just rotated from (still in the engine's set for two heights), the new key's.
    function _signerPower(address consensusAddr, address op) internal view returns (uint256 pw) {
        pw = _activePower[consensusAddr];
        if (pw == 0 && _rotatedFrom[op] == consensusAddr) pw = _activePower[_validators[op].consensusAddr];
    }

    function _recordSignature(address consensusAddr, bool missedBlock) internal {
        address op = _operatorOf[consensusAddr];
        if (op == address(0) || _signerPower(consensusAddr, op) == 0) return;
        Validator storage v = _validators[op];
        if (v.jailed) return;
        Params storage p = _params;
        SigningInfo storage s = _signing[op];
        uint64 window = p.signedBlocksWindow;
        if (s.window != window) {
            s.window = window;
            s.generation++;
            s.seen = 0;
            s.missed = 0;
        }
        uint64 index = s.seen % window;
        bytes32 key = keccak256(abi.encode(op, s.generation, index / 256));
        uint256 word = _missedBits[key];
        uint256 bit = uint256(1) << (index % 256);
        bool wasMissed = word & bit != 0;
        if (missedBlock && !wasMissed) {
            _missedBits[key] = word | bit;
            s.missed++;
        } else if (!missedBlock && wasMissed) {
            _missedBits[key] = word & ~bit;
            s.missed--;
        }
        s.seen++;
        uint256 minSigned = _bps(window, p.minSignedPerWindowBps);
        if (s.seen >= window && s.missed > window - minSigned) {
            uint256 amount = _bps(v.tokens, p.slashFractionDowntimeBps);
            _slashValidatorTokens(op, v, amount);
            emit Slashed(consensusAddr, amount, REASON_DOWNTIME);
            _jail(v, _saturatingUntil(block.timestamp, p.downtimeJailSeconds), REASON_DOWNTIME);
            _resetSigning(op);
        }
    }

    function _resetSigning(address operator) internal {
        SigningInfo storage s = _signing[operator];
        s.generation++;
        s.seen = 0;
        s.missed = 0;
        s.window = _params.signedBlocksWindow;
    }

    // =====================================================================================
    // slashing
    // =====================================================================================

    function submitDoubleSign(
        uint64 height,
        uint32 round,
        uint8 voteType,
        bytes32 hashA,
        bytes calldata sigA,
        bytes32 hashB,
        bytes calldata sigB
    ) external whenInitialized nonReentrant {
        // ecrecover checks the secp256k1 part only: under a PQ scheme only the engine's
        // node-verified evidence (`slashDoubleSign`) slashes.
        if (signatureScheme != SCHEME_SECP256K1) revert RefusedUnderPqScheme(signatureScheme);
        address signer = _evidenceSigner(height, round, voteType, hashA, sigA, hashB, sigB);
        _submitEvidence(signer, height, round, voteType);
    }

    function _evidenceSigner(
        uint64 height,
        uint32 round,
        uint8 voteType,
        bytes32 hashA,
        bytes calldata sigA,
        bytes32 hashB,
        bytes calldata sigB
    ) internal view returns (address a) {
        if (voteType != VOTE_PREVOTE && voteType != VOTE_PRECOMMIT) revert InvalidEvidence("vote type is not 1 or 2");
        if (hashA == hashB) revert InvalidEvidence("the two votes are for the same block");
        if (height > block.number) revert InvalidEvidence("height is in the future");
        a = VoteDigest.recover(VoteDigest.digest(block.chainid, height, round, voteType, hashA), sigA);
        address b = VoteDigest.recover(VoteDigest.digest(block.chainid, height, round, voteType, hashB), sigB);
        if (a == address(0) || b == address(0)) revert InvalidEvidence("a signature does not recover");
        if (a != b) revert InvalidEvidence("the votes have different signers");
    }

    function _submitEvidence(address a, uint64 height, uint32 round, uint8 voteType) internal {
        address op = _operatorOf[a];
        if (op == address(0)) revert UnknownValidator(a);
        if (uint256(height) + _params.unbondingBlocks < block.number) {
            revert EvidenceTooOld(height, block.number, _params.unbondingBlocks);
        }
        bytes32 key = evidenceKey(a, height, round, voteType);
        if (evidenceUsed[key]) revert EvidenceAlreadyUsed(key);
        if (_validators[op].tombstoned) revert Tombstoned();
        _slashDoubleSign(op, a, height, round, voteType);
    }

    /// @notice Evidence already verified by consensus. Never reverts on the evidence (a system call
    ///         must not fail): returns false when the key was used, the validator is unknown or
    ///         already tombstoned, or the evidence is older than the unbonding period.
    function slashDoubleSign(address consensusAddr, uint64 height, uint32 round, uint8 voteType)
        external
        onlySystem
        whenInitialized
        returns (bool slashed)
    {
        address op = _operatorOf[consensusAddr];
        bytes32 key = evidenceKey(consensusAddr, height, round, voteType);
        if (op == address(0) || evidenceUsed[key] || _validators[op].tombstoned) return false;
        if (uint256(height) + _params.unbondingBlocks < block.number) return false;
        _slashDoubleSign(op, consensusAddr, height, round, voteType);
        return true;
    }

    function evidenceKey(address consensusAddr, uint64 height, uint32 round, uint8 voteType)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(consensusAddr, height, round, voteType));
    }

    /// @notice The digest a vote's signature covers on this chain (for tools building evidence).
    function voteDigest(uint64 height, uint32 round, uint8 voteType, bytes32 blockHash) external view returns (bytes32) {
        return VoteDigest.digest(block.chainid, height, round, voteType, blockHash);
    }

    function _slashDoubleSign(address op, address consensusAddr, uint64 height, uint32 round, uint8 voteType)
        internal
    {
        bytes32 key = evidenceKey(consensusAddr, height, round, voteType);
        evidenceUsed[key] = true;
        Validator storage v = _validators[op];
        uint256 fraction = _params.slashFractionDoubleSignBps;
        // As Cosmos SDK: the fraction of the stake at the infraction (its power there), taken first
        // from unbondings and redelegations started since, the rest from the tokens (at most all).
        uint256 due = _bps(_saturatingMul(powerAt(consensusAddr, height), _params.powerReduction), fraction);
        uint256 amount = _slashUnbondings(op, height, fraction);
        amount += _slashRedelegations(op, height, fraction);
        uint256 fromTokens = due > amount ? due - amount : 0;
        if (fromTokens > v.tokens) fromTokens = v.tokens;
        _slashValidatorTokens(op, v, fromTokens);
        amount += fromTokens;
        emit EvidenceHandled(key, consensusAddr, height, round, voteType);
        emit Slashed(consensusAddr, amount, REASON_DOUBLE_SIGN);
        if (!v.jailed) _jail(v, type(uint64).max, REASON_DOUBLE_SIGN);
        v.jailedUntil = type(uint64).max;
        v.tombstoned = true;
        // The evidence may be about a key it rotated away from: its current key leaves the set too.
        if (_activePower[consensusAddr] != 0 || _activePower[v.consensusAddr] != 0) pendingSetChange = true;
        _removeCandidate(op);
        emit ValidatorTombstoned(consensusAddr);
    }

    function _slashUnbondings(address op, uint64 height, uint256 fraction) internal returns (uint256 total) {
        _pruneUnbondingQueue(op, type(uint256).max);
        uint256[] storage q = _unbondingQueue[op];
        for (uint256 i = _unbondingHead[op]; i < q.length; i++) {
            Unbonding storage e = _unbondings[q[i]];
            if (e.balance == 0 || e.completion <= block.number || e.creationHeight < height) continue;
            uint256 cut = _bps(e.balance, fraction);
            e.balance -= cut;
            total += cut;
        }
        if (total != 0) {
            totalUnbonding -= total;
            _burn(total);
        }
    }

    function _slashRedelegations(address op, uint64 height, uint256 fraction) internal returns (uint256 total) {
        _pruneRedelegationQueue(op, type(uint256).max);
        uint256[] storage q = _redelegationQueue[op];
        for (uint256 i = _redelegationHead[op]; i < q.length; i++) {
            Redelegation storage r = _redelegations[q[i]];
            if (r.completion <= block.number || r.creationHeight < height) continue;
            uint256 shares = _bps(r.sharesDst, fraction);
            uint256 held = _delegations[r.dst][r.delegator].shares;
            if (shares > held) shares = held;
            if (shares == 0) continue;
            uint256 tokens = _removeShares(r.dst, r.delegator, shares);
            _totalBonded -= tokens;
            total += tokens;
        }
        if (total != 0) _burn(total);
    }

    function _slashValidatorTokens(address op, Validator storage v, uint256 amount) internal {
        if (amount == 0) return;
        v.tokens -= amount;
        _totalBonded -= amount;
        _syncRank(op);
        _burn(amount);
    }

    function _jail(Validator storage v, uint64 until, uint8 reason) internal {
        v.jailed = true;
        v.jailedUntil = until;
        _syncRank(_operatorOf[v.consensusAddr]);
        if (_activePower[v.consensusAddr] != 0) pendingSetChange = true;
        emit Jailed(v.consensusAddr, until, reason);
    }

    function _removeCandidate(address op) internal {
        uint256 idx = _candidateIndex[op];
        if (idx == 0) return;
        uint256 lastIdx = _candidates.length - 1;
        address last = _candidates[lastIdx];
        _candidates[idx - 1] = last;
        _candidateRank[idx - 1] = _candidateRank[lastIdx];
        _candidateIndex[last] = idx;
        _candidates.pop();
        _candidateRank.pop();
        delete _candidateIndex[op];
    }

    /// @dev Recomputes a candidate's entry in `_candidateRank` (nothing for a non-candidate).
    function _syncRank(address op) internal {
        uint256 idx = _candidateIndex[op];
        if (idx == 0) return;
        Validator storage v = _validators[op];
        uint256 entry;
        if (!v.jailed && !v.tombstoned && v.tokens != 0 && _tokensOf(op, op) >= v.minSelfBond) {
            uint256 t = v.tokens > RANK_TOKENS_MAX ? RANK_TOKENS_MAX : v.tokens;
            entry = (t << 160) | uint256(uint160(v.consensusAddr));
        }
        if (_candidateRank[idx - 1] != entry) _candidateRank[idx - 1] = entry;
    }

    function _burn(uint256 amount) internal {
        burned += amount;
        (bool ok,) = payable(address(0)).call{value: amount}("");
        if (!ok) revert TransferFailed(address(0), amount);
    }

    // =====================================================================================
    // active set (system)
    // =====================================================================================

    function epochUpdate()
        external
        onlySystem
        whenInitialized
        returns (address[] memory consensusAddrs, uint256[] memory powers)
    {
        Params memory p = _params;
        (address[] memory addr, uint256[] memory from, uint256[] memory to, uint256 swaps) = _union(p);
        uint256[] memory cur = _boundChanges(p, addr, from, to, activeTotalPower, swaps);
        uint256 n = addr.length;
        uint256 m;
        for (uint256 i = 0; i < n; i++) if (cur[i] != 0) m++;
        if (m == 0) {
            pendingSetChange = false;
            return _activeSetCopy();
        }
        uint256[] memory packed = new uint256[](m);
        m = 0;
        for (uint256 i = 0; i < n; i++) if (cur[i] != 0) packed[m++] = _pack(cur[i], addr[i], 0);
        _sortDesc(packed);
        address[] memory outAddr = new address[](m);
        uint256[] memory outPow = new uint256[](m);
        for (uint256 i = 0; i < m; i++) {
            outPow[i] = packed[i] >> 192;
            outAddr[i] = _unpackAddr(packed[i]);
        }
        // The engine applies the set this block returns at its height + 2.
        _storeActiveSet(outAddr, outPow, uint64(block.number) + 2);
        return (outAddr, outPow);
    }

    /// @dev The union of the old set and the target, with old and target power, and how many
    ///      members rotated their keys (their new key at their old power: a swap, not a change).
    function _union(Params memory p)
        internal
        view
        returns (address[] memory addr, uint256[] memory from, uint256[] memory to, uint256 swaps)
    {
        (address[] memory tAddr, uint256[] memory tPow) = _targetSet(p);
        address[] memory oAddr = _activeSet;
        uint256 n = oAddr.length;
        addr = new address[](n + tAddr.length);
        from = new uint256[](addr.length);
        to = new uint256[](addr.length);
        for (uint256 i = 0; i < n; i++) {
            addr[i] = _currentKey(oAddr[i]);
            if (addr[i] != oAddr[i]) swaps++;
            from[i] = _activePower[oAddr[i]];
        }
        n = _mergeTarget(addr, to, n, tAddr, tPow);
        assembly {
            mstore(addr, n)
            mstore(from, n)
            mstore(to, n)
        }
    }

    /// @dev Adds the target to the union `addr[0..n)` (the old set): a target address already there
    ///      gets its target power, the others are appended. Both sorted by address and merged, so
    ///      O((n + t) log(n + t)), not O(n × t). Returns the union's size.
    function _mergeTarget(
        address[] memory addr,
        uint256[] memory to,
        uint256 n,
        address[] memory tAddr,
        uint256[] memory tPow
    ) internal pure returns (uint256 m) {
        uint256 t = tAddr.length;
        uint256[] memory keys = new uint256[](n + t);
        // address << 96 | old flag << 64 | index: sorted descending, an old entry precedes the
        // target entry of the same address.
        for (uint256 i = 0; i < n; i++) keys[i] = (uint256(uint160(addr[i])) << 96) | (1 << 64) | i;
        for (uint256 j = 0; j < t; j++) keys[n + j] = (uint256(uint160(tAddr[j])) << 96) | j;
        _sortDesc(keys);
        m = n;
        for (uint256 k = 0; k < keys.length; k++) {
            uint256 key = keys[k];
            if ((key >> 64) & 1 == 1) continue;
            uint256 j = key & type(uint64).max;
            uint256 prev = k == 0 ? 0 : keys[k - 1];
            if (k != 0 && prev >> 96 == key >> 96 && (prev >> 64) & 1 == 1) {
                to[prev & type(uint64).max] = tPow[j];
            } else {
                addr[m] = tAddr[j];
                to[m] = tPow[j];
                m++;
            }
        }
    }

    /// @dev The consensus address now registered for the holder of `a` (itself unless rotated away).
    function _currentKey(address a) internal view returns (address) {
        address op = _operatorOf[a];
        if (op == address(0)) return a;
        address cur = _validators[op].consensusAddr;
        return cur == address(0) ? a : cur;
    }

    /// @dev Applies the set change within maxPowerChangeBps of the old total power: removals of
    ///      jailed/tombstoned validators always; the others largest |delta| first, the one that
    ///      overflows the budget partially (so a large change still makes progress), joins only
    ///      while the set has fewer than maxValidators members. The rest waits for the next epoch.
    ///      At most MAX_SET_CHANGES changes, less the key swaps and the forced removals.
    function _boundChanges(
        Params memory p,
        address[] memory addr,
        uint256[] memory from,
        uint256[] memory to,
        uint256 oldTotal,
        uint256 spent
    ) internal view returns (uint256[] memory cur) {
        cur = new uint256[](addr.length);
        if (oldTotal == 0) {
            for (uint256 i = 0; i < addr.length; i++) cur[i] = to[i];
            return cur;
        }
        uint256 budget = oldTotal * p.maxPowerChangeBps / BPS;
        if (budget == 0) budget = 1;
        (uint256 used, uint256 count, uint256[] memory order) = _forcedRemovals(addr, from, to, cur, addr.length);
        // `spent`: the key swaps, plus the forced removals (members minus those still counted);
        // then the changes left of MAX_SET_CHANGES
        for (uint256 i = 0; i < addr.length; i++) if (from[i] != 0) spent++;
        spent -= count;
        spent = spent < MAX_SET_CHANGES ? MAX_SET_CHANGES - spent : 0;
        for (uint256 c = 0; c < order.length && used < budget && spent != 0; c++) {
            uint256 i = order[c] & 0xffffffff;
            bool joining = from[i] == 0;
            if (joining && count >= p.maxValidators) continue;
            uint256 step = order[c] >> 192;
            if (step > budget - used) step = budget - used;
            cur[i] = to[i] > from[i] ? from[i] + step : from[i] - step;
            used += step;
            spent--;
            if (joining) count++;
            if (cur[i] == 0) count--;
        }
    }

    /// @dev Starts `cur` at the old powers, zeroes jailed/tombstoned members (their power counts as
    ///      used budget), and returns the other changes packed and sorted largest |delta| first.
    function _forcedRemovals(
        address[] memory addr,
        uint256[] memory from,
        uint256[] memory to,
        uint256[] memory cur,
        uint256 n
    ) internal view returns (uint256 used, uint256 count, uint256[] memory order) {
        order = new uint256[](n);
        uint256 changes;
        for (uint256 i = 0; i < n; i++) {
            cur[i] = from[i];
            if (from[i] != 0) {
                Validator storage v = _validators[_operatorOf[addr[i]]];
                if (v.jailed || v.tombstoned) {
                    used += from[i];
                    cur[i] = 0;
                    continue;
                }
                count++;
            }
            uint256 d = to[i] > from[i] ? to[i] - from[i] : from[i] - to[i];
            if (d != 0) order[changes++] = _pack(d, addr[i], i);
        }
        assembly {
            mstore(order, changes)
        }
        _sortDesc(order);
    }

    /// @dev The unbounded target: candidates (not jailed, self-bond >= their minimum, power >= 1),
    ///      top maxValidators by power, ties by lower consensus address.
    ///      One storage read per candidate (`_candidateRank`); a stake over 2^96−1 wei ranks as that.
    function _targetSet(Params memory p) internal view returns (address[] memory addrs, uint256[] memory powers) {
        uint256[] memory ranks = _candidateRank;
        uint256 n = ranks.length;
        uint256[] memory packed = new uint256[](n);
        uint256 m;
        for (uint256 i = 0; i < n; i++) {
            uint256 e = ranks[i];
            if (e == 0) continue;
            uint256 pw = (e >> 160) / p.powerReduction;
            if (pw == 0) continue;
            if (pw > MAX_POWER) pw = MAX_POWER;
            packed[m++] = _pack(pw, address(uint160(e)), 0);
        }
        assembly {
            mstore(packed, m)
        }
        _sortDesc(packed);
        if (m > p.maxValidators) m = p.maxValidators;
        addrs = new address[](m);
        powers = new uint256[](m);
        for (uint256 i = 0; i < m; i++) {
            powers[i] = packed[i] >> 192;
            addrs[i] = _unpackAddr(packed[i]);
        }
    }

    /// @dev The active set, in the engine's set from height `from` on (its power history checkpointed).
    ///      Writes only what changed: members that left (found by merging the two sets sorted by
    ///      address), powers that moved, array slots that hold another address.
    function _storeActiveSet(address[] memory addrs, uint256[] memory powers, uint64 from) internal {
        address[] memory old = _activeSet;
        uint256[] memory o = new uint256[](old.length);
        uint256[] memory nw = new uint256[](addrs.length);
        for (uint256 i = 0; i < old.length; i++) o[i] = uint160(old[i]);
        for (uint256 i = 0; i < addrs.length; i++) nw[i] = uint160(addrs[i]);
        _sortDesc(o);
        _sortDesc(nw);
        uint256 j;
        for (uint256 i = 0; i < o.length; i++) {
            while (j < nw.length && nw[j] > o[i]) j++;
            if (j < nw.length && nw[j] == o[i]) continue;
            address gone = address(uint160(o[i]));
            delete _activePower[gone];
            _checkpointPower(gone, 0, from);
        }
        uint256 total;
        for (uint256 i = 0; i < addrs.length; i++) {
            address a = addrs[i];
            if (i >= old.length) _activeSet.push(a);
            else if (old[i] != a) _activeSet[i] = a;
            if (_activePower[a] != powers[i]) {
                _activePower[a] = powers[i];
                _checkpointPower(a, powers[i], from);
            }
            total += powers[i];
        }
        for (uint256 i = old.length; i > addrs.length; i--) _activeSet.pop();
        activeTotalPower = total;
        pendingSetChange = false;
        emit ActiveSetUpdated(addrs, powers, total);
    }

    /// @dev Records `power` from height `from` on (replacing a checkpoint of the same height; nothing when unchanged).
    function _checkpointPower(address a, uint256 power, uint64 from) internal {
        uint256[] storage h = _powerHistory[a];
        uint256 n = h.length;
        uint256 entry = (uint256(from) << 192) | power;
        if (n != 0) {
            uint256 last = h[n - 1];
            if (last >> 192 == from) {
                h[n - 1] = entry;
                return;
            }
            if (last & POWER_BITS == power) return;
        } else if (power == 0) {
            return;
        }
        h.push(entry);
    }

    /// @notice The consensus address's voting power in the engine's set at `height` (0 when it was not in it).
    function powerAt(address consensusAddr, uint64 height) public view returns (uint256) {
        uint256[] storage h = _powerHistory[consensusAddr];
        uint256 lo = 0;
        uint256 hi = h.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (h[mid] >> 192 <= height) lo = mid + 1;
            else hi = mid;
        }
        return lo == 0 ? 0 : h[lo - 1] & POWER_BITS;
    }

    function _activeSetCopy() internal view returns (address[] memory addrs, uint256[] memory powers) {
        addrs = _activeSet;
        powers = new uint256[](addrs.length);
        for (uint256 i = 0; i < addrs.length; i++) powers[i] = _activePower[addrs[i]];
    }

    /// @dev key (< 2^64) in the top 64 bits, then ~address (so ties sort by lower address first), then a 32-bit index.
    function _pack(uint256 key, address a, uint256 idx) internal pure returns (uint256) {
        return (key << 192) | (uint256(uint160(~bytes20(a))) << 32) | idx;
    }

    function _unpackAddr(uint256 x) internal pure returns (address) {
        return address(~bytes20(uint160(x >> 32)));
    }

    function _sortDesc(uint256[] memory a) internal pure {
        if (a.length > 1) _quickSort(a, 0, int256(a.length - 1));
    }

    function _quickSort(uint256[] memory a, int256 lo, int256 hi) internal pure {
        while (lo < hi) {
            uint256 pivot = a[uint256(lo + (hi - lo) / 2)];
            int256 i = lo;
            int256 j = hi;
            while (i <= j) {
                while (a[uint256(i)] > pivot) i++;
                while (a[uint256(j)] < pivot) j--;
                if (i <= j) {
                    (a[uint256(i)], a[uint256(j)]) = (a[uint256(j)], a[uint256(i)]);
                    i++;
                    j--;
                }
            }
            if (j - lo < hi - i) {
                if (lo < j) _quickSort(a, lo, j);
                lo = i;
            } else {
                if (i < hi) _quickSort(a, i, hi);
                hi = j;
            }
        }
    }

    // =====================================================================================
    // governance
    // =====================================================================================

    function setParams(Params calldata p) external onlyGovernance {
        _checkParams(p);
        _params = p;
        emit ParamsSet(p);
    }

    function spendCommunityPool(address to, uint256 amount) external onlyGovernance nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        if (amount > _communityPool) revert InsufficientCommunityPool(amount, _communityPool);
        _communityPool -= amount;
        _pay(to, amount);
        emit CommunityPoolSpent(to, amount);
    }

    /// @notice Reverts `InvalidParams(reason)` when `p` is not a parameter set `setParams` accepts
    ///         (Governance checks a proposal's `setParams` action with it when it is submitted).
    function checkParams(Params calldata p) external pure {
        _checkParams(p);
    }

    /// @dev Every bound keeps the system calls within their gas and their arithmetic in range; the
    ///      derivations are in docs/consensus/staking.md "Parameter bounds".
    function _checkParams(Params calldata p) internal pure {
        if (p.epochLength == 0 || p.epochLength > MAX_PERIOD_BLOCKS) {
            revert InvalidParams("epochLength must be in 1..4294967296 blocks");
        }
        if (p.maxValidators == 0 || p.maxValidators > MAX_VALIDATORS) {
            revert InvalidParams("maxValidators must be in 1..200: more does not fit the system-call gas");
        }
        if (p.powerReduction == 0) revert InvalidParams("powerReduction must be >= 1");
        if (p.unbondingBlocks > MAX_PERIOD_BLOCKS) revert InvalidParams("unbondingBlocks must be <= 4294967296");
        if (p.issuancePerBlock > MAX_ISSUANCE_PER_BLOCK) {
            revert InvalidParams("issuancePerBlock must be <= 10^30 wei");
        }
        if (p.annualRateBps != 0 && p.blocksPerYear == 0) revert InvalidParams("blocksPerYear must be >= 1");
        if (p.annualRateBps > BPS) revert InvalidParams("annualRateBps must be <= 10000");
        if (p.communityTaxBps > BPS) revert InvalidParams("communityTaxBps must be <= 10000");
        if (p.signedBlocksWindow == 0 || p.signedBlocksWindow > MAX_PERIOD_BLOCKS) {
            revert InvalidParams("signedBlocksWindow must be in 1..4294967296 blocks");
        }
        if (p.minSignedPerWindowBps > BPS) revert InvalidParams("minSignedPerWindowBps must be <= 10000");
        if (p.slashFractionDoubleSignBps > BPS) revert InvalidParams("slashFractionDoubleSignBps must be <= 10000");
        if (p.slashFractionDowntimeBps > BPS) revert InvalidParams("slashFractionDowntimeBps must be <= 10000");
        if (p.downtimeJailSeconds > MAX_JAIL_SECONDS) {
            revert InvalidParams("downtimeJailSeconds must be <= 31536000 (a year)");
        }
        if (p.maxPowerChangeBps == 0 || p.maxPowerChangeBps >= 3333) {
            revert InvalidParams("maxPowerChangeBps must be in 1..3332");
        }
    }

    // =====================================================================================
    // views
    // =====================================================================================

    function params() external view returns (Params memory) {
        return _params;
    }

    function activeSet() external view returns (address[] memory consensusAddrs, uint256[] memory powers) {
        return _activeSetCopy();
    }

    function validatorByConsensus(address consensusAddr) external view returns (address operator) {
        return _operatorOf[consensusAddr];
    }

    function getValidator(address operator)
        external
        view
        returns (
            address consensusAddr,
            uint256 tokens,
            uint256 selfBond,
            uint16 commissionBps,
            bool jailed,
            bool tombstoned,
            uint64 jailedUntil,
            string memory description
        )
    {
        Validator storage v = _validators[operator];
        return (
            v.consensusAddr,
            v.tokens,
            _tokensOf(operator, operator),
            v.commissionBps,
            v.jailed,
            v.tombstoned,
            v.jailedUntil,
            v.description
        );
    }

    /// @notice The rest of a validator's record: commission bounds, minimum self-bond, shares, unpaid commission.
    function getValidatorTerms(address operator)
        external
        view
        returns (
            uint16 maxCommissionBps,
            uint16 maxChangeBpsPerDay,
            uint64 lastCommissionChange,
            uint256 minSelfBond,
            uint256 shares,
            uint256 commission
        )
    {
        Validator storage v = _validators[operator];
        return (v.maxCommissionBps, v.maxChangeBpsPerDay, v.lastCommissionChange, v.minSelfBond, v.shares, v.commission);
    }

    /// @notice Downtime window state of a validator: blocks seen and missed in the current window.
    function signingInfo(address operator) external view returns (uint64 seen, uint64 missed, uint64 window) {
        SigningInfo storage s = _signing[operator];
        return (s.seen, s.missed, s.window);
    }

    /// @notice Every validator competing for the active set (operators; tombstoned ones are removed).
    function candidates() external view returns (address[] memory) {
        return _candidates;
    }

    function delegationOf(address delegator, address operator) external view returns (uint256 amount) {
        return _tokensOf(operator, delegator);
    }

    function delegationsOf(address delegator)
        public
        view
        returns (address[] memory operators, uint256[] memory amounts)
    {
        operators = _delegatedTo[delegator];
        amounts = new uint256[](operators.length);
        for (uint256 i = 0; i < operators.length; i++) amounts[i] = _tokensOf(operators[i], delegator);
    }

    /// @notice A delegator's waiting unbonding entries (operator, balance after slashes, completion block).
    function unbondingsOf(address delegator)
        external
        view
        returns (address[] memory operators, uint256[] memory balances, uint64[] memory completions)
    {
        uint256[] storage ids = _unbondingsOf[delegator];
        operators = new address[](ids.length);
        balances = new uint256[](ids.length);
        completions = new uint64[](ids.length);
        for (uint256 i = 0; i < ids.length; i++) {
            Unbonding storage e = _unbondings[ids[i]];
            (operators[i], balances[i], completions[i]) = (e.operator, e.balance, e.completion);
        }
    }

    function pendingRewards(address delegator, address operator) external view returns (uint256) {
        Delegation storage d = _delegations[operator][delegator];
        uint256 acc = _mulDiv(d.shares, _validators[operator].accRewardPerShare, PREC);
        return d.owed + (acc > d.rewardDebt ? acc - d.rewardDebt : 0);
    }

    function totalBonded() external view returns (uint256) {
        return _totalBonded;
    }

    function communityPool() external view returns (uint256) {
        return _communityPool;
    }

    function votingPowerOf(address delegator) external view returns (uint256 power) {
        address[] storage ops = _delegatedTo[delegator];
        for (uint256 i = 0; i < ops.length; i++) power += _tokensOf(ops[i], delegator);
    }

    /// @notice The accounting the contract's balance must equal: bonded + unbonding + unpaid rewards
    ///         + unpaid commission + community pool (`burned` already left the contract).
    function accounting()
        external
        view
        returns (
            uint256 bonded,
            uint256 unbonding,
            uint256 rewards,
            uint256 commissions,
            uint256 pool,
            uint256 burnedTotal
        )
    {
        return (_totalBonded, totalUnbonding, rewardsOutstanding, commissionOutstanding, _communityPool, burned);
    }

    // ---- internal helpers ----

    function _validator(address operator) internal view returns (Validator storage v) {
        v = _validators[operator];
        if (!v.exists) revert UnknownValidator(operator);
    }

    function _tokensOf(address operator, address delegator) internal view returns (uint256) {
        Validator storage v = _validators[operator];
        if (v.shares == 0) return 0;
        return _mulDiv(_delegations[operator][delegator].shares, v.tokens, v.shares);
    }

    function _ceilDiv(uint256 a, uint256 b) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    // ---- saturating arithmetic: a system call's sums never revert (docs/consensus/staking.md) ----

    /// @dev floor(a × bps / 10^4), exact for any a.
    function _bps(uint256 a, uint256 bps) internal pure returns (uint256) {
        return _mulDiv(a, bps, BPS);
    }

    /// @dev a × b, or 2^256−1 when it does not fit.
    function _saturatingMul(uint256 a, uint256 b) internal pure returns (uint256) {
        unchecked {
            if (a == 0) return 0;
            uint256 c = a * b;
            return c / a == b ? c : type(uint256).max;
        }
    }

    /// @dev `time + secs` as a uint64 timestamp, 2^64−1 when it does not fit.
    function _saturatingUntil(uint256 time, uint256 secs) internal pure returns (uint64) {
        uint256 u = time + secs; // both < 2^64
        return u > type(uint64).max ? type(uint64).max : uint64(u);
    }

    /// @dev floor(a × b / d) over the full 512-bit product (Remco Bloemen's mulDiv, as
    ///      OpenZeppelin's Math.mulDiv), 2^256−1 when the quotient does not fit; d > 0.
    function _mulDiv(uint256 a, uint256 b, uint256 d) internal pure returns (uint256 result) {
        unchecked {
            uint256 prod0 = a * b;
            uint256 prod1;
            assembly {
                let mm := mulmod(a, b, not(0))
                prod1 := sub(sub(mm, prod0), lt(mm, prod0))
            }
            if (prod1 == 0) return prod0 / d;
            if (d <= prod1) return type(uint256).max;
            uint256 remainder;
            assembly {
                remainder := mulmod(a, b, d)
                prod1 := sub(prod1, gt(remainder, prod0))
                prod0 := sub(prod0, remainder)
            }
            uint256 twos = d & (~d + 1);
            assembly {
                d := div(d, twos)
                prod0 := div(prod0, twos)
                twos := add(div(sub(0, twos), twos), 1)
            }
            prod0 |= prod1 * twos;
            uint256 inverse = (3 * d) ^ 2;
            inverse *= 2 - d * inverse;
            inverse *= 2 - d * inverse;
            inverse *= 2 - d * inverse;
            inverse *= 2 - d * inverse;
            inverse *= 2 - d * inverse;
            inverse *= 2 - d * inverse;
            result = prod0 * inverse;
        }
    }

    function _pay(address to, uint256 amount) internal {
        (bool ok,) = payable(to).call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
