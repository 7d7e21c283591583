//! TypeScript types of the JS API, shipped in the package's .d.ts. Keep in step with `config.rs` and
//! `runtime.rs`; `tests/consumer` type-checks a game's use of them.
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `UnwrittenAI.create`. Every field is optional; unknown fields are rejected (`InvalidConfig`). */
export interface UnwrittenConfig {
  /** Prefix of storage keys and of the IndexedDB name: 1-32 of a-z 0-9 - _. Default "unwritten". */
  namespace?: string;
  storage?: {
    /** Use localStorage when the browser allows it. Default true. */
    localStorage?: boolean;
    /** Use IndexedDB when the browser allows it. Default true. */
    indexedDb?: boolean;
  };
}

/** Whether a storage tier works, as probed at start. */
export type TierStatus =
  | { state: "available" }
  | { state: "disabled" }
  | { state: "unavailable"; reason: string };

export interface DeviceSnapshot {
  batteryLevel: number | null;
  charging: boolean | null;
  effectiveType: "slow-2g" | "2g" | "3g" | "4g" | string | null;
  saveData: boolean | null;
  visibility: "visible" | "hidden" | null;
  storageQuotaBytes: number | null;
  storageUsageBytes: number | null;
}

export interface UnwrittenMetrics {
  version: string;
  namespace: string;
  uptimeMs: number;
  /** Time `create` took, ms. */
  startMs: number;
  storage: { localStorage: TierStatus; indexedDb: TierStatus };
  device: DeviceSnapshot;
}

/** Names of the errors this package throws or rejects with (`err.name`). */
export type UnwrittenErrorName = "InvalidConfig" | "InvalidRequest" | "StorageError" | "NetworkError" | "Disposed";
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "UnwrittenConfig")]
    pub type ConfigArg;
    #[wasm_bindgen(typescript_type = "UnwrittenMetrics")]
    pub type MetricsValue;
}
