// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title ReservesRegistry
/// @notice Public record of proof-of-liabilities snapshots: for each snapshot id, the Merkle sum
///         tree's root hash, its hash function, the currencies and the root total of each, when it
///         was anchored and by whom. A user holding an inclusion proof (format v1, see
///         docs/reserves/proof-format.md) checks that the proof's root and totals are the ones
///         recorded here. An anchored snapshot can never be changed or removed.
/// @dev    The owner manages publishers; the owner is not a publisher unless it adds itself
///         (the deployer is made a publisher at construction for convenience).
contract ReservesRegistry {
    /// @notice One anchored snapshot.
    struct Snapshot {
        /// @dev Root hash of the sum tree (SHA-256 or Keccak-256 of the root node).
        bytes32 rootHash;
        /// @dev The tree's hash function: "sha256" or "keccak256".
        string hashName;
        /// @dev Currency symbols in the tree's order.
        string[] currencies;
        /// @dev Root total per currency, in the smallest unit (u128 like the proof format).
        uint128[] totals;
        /// @dev Block timestamp of the anchoring transaction.
        uint64 timestamp;
        /// @dev Who anchored it.
        address publisher;
    }

    address public owner;
    mapping(address => bool) public isPublisher;

    mapping(bytes32 => Snapshot) private snapshots;
    string[] private ids;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event PublisherSet(address indexed account, bool allowed);
    /// @notice A snapshot's root and totals were recorded. `idHash` is keccak256(bytes(snapshotId)).
    event SnapshotAnchored(
        bytes32 indexed idHash,
        string snapshotId,
        bytes32 rootHash,
        string hashName,
        string[] currencies,
        uint128[] totals,
        address indexed publisher,
        uint64 timestamp
    );

    error NotOwner(address caller);
    error NotPublisher(address caller);
    error AlreadyAnchored(string snapshotId);
    error NotAnchored(string snapshotId);
    error InvalidSnapshot(string reason);
    error ZeroAddress();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
        isPublisher[msg.sender] = true;
        emit OwnershipTransferred(address(0), msg.sender);
        emit PublisherSet(msg.sender, true);
    }

    /// @notice Hands the registry to `newOwner` (publishers are kept).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Allows or revokes `account` as a publisher.
    function setPublisher(address account, bool allowed) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        isPublisher[account] = allowed;
        emit PublisherSet(account, allowed);
    }

    /// @notice Records a snapshot. Reverts if the id was anchored before: a published root is final.
    function anchor(
        string calldata snapshotId,
        bytes32 rootHash,
        string calldata hashName,
        string[] calldata currencies,
        uint128[] calldata totals
    ) external {
        if (!isPublisher[msg.sender]) revert NotPublisher(msg.sender);
        uint256 idLength = bytes(snapshotId).length;
        if (idLength == 0 || idLength > 64) revert InvalidSnapshot("snapshot id must be 1 to 64 bytes");
        if (rootHash == bytes32(0)) revert InvalidSnapshot("root hash is zero");
        if (currencies.length == 0 || currencies.length > 64) revert InvalidSnapshot("1 to 64 currencies");
        if (currencies.length != totals.length) revert InvalidSnapshot("one total per currency");
        bytes32 key = keccak256(bytes(snapshotId));
        Snapshot storage s = snapshots[key];
        if (s.publisher != address(0)) revert AlreadyAnchored(snapshotId);
        s.rootHash = rootHash;
        s.hashName = hashName;
        for (uint256 i = 0; i < currencies.length; i++) s.currencies.push(currencies[i]);
        s.totals = totals;
        s.timestamp = uint64(block.timestamp);
        s.publisher = msg.sender;
        ids.push(snapshotId);
        emit SnapshotAnchored(key, snapshotId, rootHash, hashName, currencies, totals, msg.sender, s.timestamp);
    }

    /// @notice Whether `snapshotId` has been anchored.
    function isAnchored(string calldata snapshotId) external view returns (bool) {
        return snapshots[keccak256(bytes(snapshotId))].publisher != address(0);
    }

    /// @notice The anchored record of `snapshotId`; reverts with NotAnchored when there is none.
    function getSnapshot(string calldata snapshotId) external view returns (Snapshot memory) {
        Snapshot storage s = snapshots[keccak256(bytes(snapshotId))];
        if (s.publisher == address(0)) revert NotAnchored(snapshotId);
        return s;
    }

    /// @notice How many snapshots have been anchored.
    function snapshotCount() external view returns (uint256) {
        return ids.length;
    }

    /// @notice The id of the `index`-th anchored snapshot (oldest first).
    function snapshotIdAt(uint256 index) external view returns (string memory) {
        return ids[index];
    }
}
