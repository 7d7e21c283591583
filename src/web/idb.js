// IndexedDB single reads and writes on one raw connection (cheaper in Chromium than rexie's callbacks per request
// and transaction): each read or write reports to a callback. Called from src/web/indexed_db.rs.
export class IdbKv {
  constructor(db, store) {
    this.db = db;
    this.store = store;
    // The object store of the last read transaction, reused while the browser keeps it active (see
    // IndexedDbStore). Every write drops it, so a read issued after a write never comes from an older transaction.
    this.reader = null;
  }

  /** Forgets the read transaction (before any write, and on close). */
  drop() {
    this.reader = null;
  }

  /**
   * Reads `key` in the last read transaction while it is active, else in a new one, and reports the outcome as
   * `done(id, true, value)` (value undefined if there is no record) or `done(id, false, error)`. A callback rather
   * than a promise: the caller (IndexedDbStore) hands in one long-lived function and waits on `id`, so a read
   * costs one request and one call back into WebAssembly, with no promise, no `then` and no closure per read.
   * Throws (InvalidStateError on a closed connection) only synchronously, before any request was made.
   */
  read(key, id, done) {
    const reused = this.reader;
    if (reused !== null) {
      let request = null;
      try {
        request = reused.get(key);
      } catch (_) {
        // The transaction has finished (TransactionInactiveError): a new one below.
      }
      if (request !== null) {
        request.onsuccess = () => done(id, true, request.result);
        // Any failure in the reused transaction gets one retry in a new one.
        request.onerror = (event) => {
          event.preventDefault();
          if (this.reader === reused) this.reader = null;
          try {
            this._readFresh(key, id, done);
          } catch (e) {
            done(id, false, e);
          }
        };
        return;
      }
    }
    this._readFresh(key, id, done);
  }

  _readFresh(key, id, done) {
    const os = this.db.transaction(this.store, 'readonly').objectStore(this.store);
    this.reader = os;
    const request = os.get(key);
    request.onsuccess = () => done(id, true, request.result);
    request.onerror = () => done(id, false, request.error);
  }

  /**
   * Writes `value` under `key` in one transaction and reports `done(id, true)` once it has committed, or
   * `done(id, false, error)` with the DOMException that aborted it (QuotaExceededError included). The transaction
   * is committed explicitly (commit(), Chromium and Firefox >= 74) so the browser does not wait for the request's
   * success event to auto-commit. `view` is a view of wasm memory, valid only during this call: the value stored
   * is a copy (`slice`), which is also what keeps the structured clone from serialising the whole wasm memory
   * behind the view. Throws only synchronously, before anything was written.
   */
  put(key, view, id, done) {
    this.reader = null;
    const tx = this.db.transaction(this.store, 'readwrite');
    tx.oncomplete = () => done(id, true);
    tx.onabort = () => done(id, false, tx.error || new DOMException('the transaction was aborted', 'AbortError'));
    tx.objectStore(this.store).put(view.slice(), key);
    if (typeof tx.commit === 'function') tx.commit();
  }
}
