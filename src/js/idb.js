// IndexedDB writes as single promises: one transaction, resolved when it commits, rejected with the DOMException
// that aborted it (QuotaExceededError included). Called from src/web/indexed_db.rs.
export function idbPut(db, store, key, value) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, 'readwrite');
    tx.objectStore(store).put(value, key);
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException('the transaction was aborted', 'AbortError'));
  });
}
