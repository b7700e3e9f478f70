/// The rows of an embedding table that exist, for the updates that visit every one of them
/// (Global Adam): a `HashTable`'s rows in use, or every row of a `OneHotIndex`.
public protocol EmbeddingRows: AnyObject, Sendable {
    /// Rows of the value matrix.
    var capacity: Int { get }
    /// Rows in use as the host knows them (exact on the CPU backend; a GPU backend counts in `state`).
    var size: Int { get }
    /// int64 in backend memory; element 0 is the rows in use as the device counts them.
    var state: Tensor { get }
}

extension HashTable: EmbeddingRows {}
